// The synthetic world's colours (gpu-runner/model/fymnet/world/render.py), RGB in [0, 1]: one table
// for the metrics' painter and the tuner's appearance augmentation.

export const OBJECT_COLOURS = ["red", "green", "blue", "yellow", "cyan", "magenta", "white", "orange"] as const;
export const BACKGROUND_COLOURS = ["black", "gray", "navy", "maroon", "olive", "teal"] as const;
export type ObjectColour = (typeof OBJECT_COLOURS)[number];
export type BackgroundColour = (typeof BACKGROUND_COLOURS)[number];

export const RGB: Record<ObjectColour | BackgroundColour, [number, number, number]> = {
  red: [0.9, 0.1, 0.1],
  green: [0.1, 0.8, 0.2],
  blue: [0.2, 0.35, 1.0],
  yellow: [0.95, 0.9, 0.1],
  cyan: [0.1, 0.9, 0.9],
  magenta: [0.9, 0.15, 0.85],
  white: [1.0, 1.0, 1.0],
  orange: [1.0, 0.55, 0.05],
  black: [0, 0, 0],
  gray: [0.35, 0.35, 0.35],
  navy: [0.05, 0.05, 0.35],
  maroon: [0.35, 0.05, 0.05],
  olive: [0.3, 0.3, 0.05],
  teal: [0.05, 0.3, 0.3],
};
