import type { HeadClassification } from "./head-classification.ts";

/**
 * The head classification as a picture: a row per block, a column per head; red for similarity to
 * the temporal pseudo map, blue for the spatial one (brighter is more similar, scaled to the
 * largest score), and a white frame around the heads classified temporal.
 */
export function headHeatmap(h: HeadClassification, cell = 16): { rgb: Uint8Array; width: number; height: number } {
  const depth = h.scores.length;
  const heads = h.scores[0]?.length ?? 0;
  const max = Math.max(1e-9, ...h.scores.flat(2));
  const width = heads * cell;
  const height = depth * cell;
  const rgb = new Uint8Array(width * height * 3);
  for (let b = 0; b < depth; b++) {
    for (let k = 0; k < heads; k++) {
      const [sp, tp] = h.scores[b]![k]!;
      const temporal = h.temporal[b]!.includes(k);
      for (let y = 0; y < cell; y++) {
        for (let x = 0; x < cell; x++) {
          const edge = x === 0 || y === 0 || x === cell - 1 || y === cell - 1;
          const inner = x === 1 || y === 1 || x === cell - 2 || y === cell - 2;
          const at = ((b * cell + y) * width + k * cell + x) * 3;
          if (edge) rgb.set([24, 24, 24], at);
          else if (inner && temporal) rgb.set([255, 255, 255], at);
          else rgb.set([Math.round((255 * tp) / max), 32, Math.round((255 * sp) / max)], at);
        }
      }
    }
  }
  return { rgb, width, height };
}
