// A TypeScript port of the synthetic world's renderer (gpu-runner/model/fymnet/world/render.py): palette, shape
// signed distances, backgrounds and stick figures. Tests paint clips whose answer is known with it,
// and the shape classifier renders its templates with it, so both see exactly what the world draws.
import type { Clip } from "../../core/clip.ts";
import { type BackgroundColour, type ObjectColour, RGB } from "../../core/palette.ts";
import { Rng } from "../../core/rng.ts";

export const FRAMES = 16;
export const SIZE = 32;
export { BACKGROUND_COLOURS, OBJECT_COLOURS, RGB, type BackgroundColour, type ObjectColour } from "../../core/palette.ts";
export const SHAPES = ["circle", "square", "triangle", "star", "diamond", "cross"] as const;
export const STYLES = ["plain", "gradient", "striped", "checkered", "noisy"] as const;
export type Shape = (typeof SHAPES)[number];
export type Style = (typeof STYLES)[number];
export type Size = "small" | "big" | null;

/** Object radius in pixels per size word (world.SIZE_PX). */
export const SIZE_PX = { small: 3.5, medium: 5.0, big: 7.0 } as const;
export const sizePx = (s: Size) => (s === null ? SIZE_PX.medium : SIZE_PX[s]);

/** world._shape_distance: normalised distance of (u, v) from the shape's centre, < 1 inside. */
export function shapeDistance(shape: Shape, u: number, v: number): number {
  switch (shape) {
    case "circle":
      return Math.sqrt(u * u + v * v + 1e-8);
    case "square":
      return Math.max(Math.abs(u), Math.abs(v)) / 0.8;
    case "triangle": {
      let m = -Infinity;
      for (let k = 0; k < 3; k++) {
        const a = Math.PI / 2 + (2 * Math.PI * k) / 3;
        m = Math.max(m, (u * Math.cos(a) + v * Math.sin(a)) / 0.5);
      }
      return m;
    }
    case "star": {
      const h = 0.5 + 0.5 * Math.cos(5 * Math.atan2(v, u));
      return Math.sqrt(u * u + v * v + 1e-8) / (0.5 + 0.5 * h * h);
    }
    case "diamond":
      return (Math.abs(u) + Math.abs(v)) / 1.1;
    case "cross":
      return Math.min(Math.max(Math.abs(u) / 0.34, Math.abs(v)), Math.max(Math.abs(u), Math.abs(v) / 0.34));
  }
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Soft mask (size²) of a shape centred at (cx, cy) px, rotated by `angle`, radius `scale` px: the world's alpha. */
export function shapeAlpha(shape: Shape, cx: number, cy: number, angle: number, scale: number, size = SIZE): Float32Array {
  const out = new Float32Array(size * size);
  const ca = Math.cos(-angle);
  const sa = Math.sin(-angle);
  // Beyond 1.5 radii + 2 px the sigmoid is < 1e-4 for every shape; skipping them keeps template matching cheap.
  const reach = 1.5 * scale + 2;
  for (let y = Math.max(0, Math.floor(cy - reach)); y < Math.min(size, Math.ceil(cy + reach)); y++) {
    for (let x = Math.max(0, Math.floor(cx - reach)); x < Math.min(size, Math.ceil(cx + reach)); x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const d = shapeDistance(shape, (dx * ca - dy * sa) / scale, (dx * sa + dy * ca) / scale);
      out[y * size + x] = sigmoid((1 - d) * scale * 2.5);
    }
  }
  return out;
}

/** Joint angles [armL_up, armL_low, armR_up, armR_low, legL_up, legL_low, legR_up, legR_low], 0 = hanging down. */
export type Joints = [number, number, number, number, number, number, number, number];

function segDist(px: number, py: number, a: [number, number], b: [number, number]): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const t = Math.min(1, Math.max(0, ((px - a[0]) * dx + (py - a[1]) * dy) / (dx * dx + dy * dy + 1e-8)));
  return Math.hypot(px - (a[0] + t * dx), py - (a[1] + t * dy));
}

/** A stick figure's skeleton: named points (hip, neck, head, shoulder, elbows, hands, knees, feet) and the segments between them. */
export function personSkeleton(
  hip: [number, number],
  angle: number,
  joints: Joints,
  L = 7,
): { points: Record<string, [number, number]>; segments: [[number, number], [number, number]][] } {
  const rot = (x: number, y: number): [number, number] => [x * Math.cos(angle) - y * Math.sin(angle), x * Math.sin(angle) + y * Math.cos(angle)];
  const add = (p: [number, number], d: [number, number]): [number, number] => [p[0] + d[0], p[1] + d[1]];
  const points: Record<string, [number, number]> = {
    hip,
    neck: add(hip, rot(0, -1.1 * L)),
    head: add(hip, rot(0, -1.55 * L)),
    shoulder: add(hip, rot(0, -0.95 * L)),
  };
  const segments: [[number, number], [number, number]][] = [[hip, points.neck!]];
  const limb = (name: string, o: [number, number], up: number, low: number, len: number) => {
    const mid = add(o, rot(len * Math.sin(up), len * Math.cos(up)));
    const end = add(mid, rot(len * Math.sin(up + low), len * Math.cos(up + low)));
    points[`${name}Mid`] = mid;
    points[`${name}End`] = end;
    segments.push([o, mid], [mid, end]);
  };
  limb("armL", points.shoulder!, joints[0], joints[1], 0.55 * L);
  limb("armR", points.shoulder!, -joints[2], -joints[3], 0.55 * L);
  limb("legL", hip, joints[4], joints[5], 0.65 * L);
  limb("legR", hip, -joints[6], -joints[7], 0.65 * L);
  return { points, segments };
}

/** world._person_alpha: soft mask of a stick figure with its hip at `hip`, body angle `angle`. */
export function personAlpha(hip: [number, number], angle: number, joints: Joints, size = SIZE, L = 7): Float32Array {
  const { points, segments: segs } = personSkeleton(hip, angle, joints, L);
  const head = points.head!;
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      let d = Infinity;
      for (const [a, b] of segs) d = Math.min(d, segDist(px, py, a, b));
      const headD = Math.hypot(px - head[0], py - head[1]) - 0.32 * L;
      out[y * size + x] = Math.max(sigmoid((0.9 - d) * 3), sigmoid(-headD * 3));
    }
  }
  return out;
}

export interface PaintSprite {
  colour: ObjectColour;
  shape: Shape | "person";
  size?: Size;
  path: [number, number][]; // per frame, world pixels
  angle?: number[]; // per frame, radians
  joints?: Joints[]; // per frame (person only)
}

export interface PaintSpec {
  background: BackgroundColour;
  style: Style;
  styleAngle?: number;
  stylePeriod?: number;
  noiseSeed?: number;
  sprites: PaintSprite[];
  camera?: [number, number, number][]; // per frame (dx, dy, zoom)
  frames?: number;
}

/** A smooth random texture in [0, 1] over world coordinates (the world's noisy style; not bit-identical). */
function noiseField(seed: number): (wx: number, wy: number) => number {
  const rng = new Rng(seed);
  const tex = Array.from({ length: 144 }, () => rng.next());
  const at = (i: number, j: number) => {
    // Reflect at the edges as grid_sample's reflection padding does.
    const r = (k: number) => (k < 0 ? -k - 1 : k > 11 ? 23 - k : k);
    return tex[r(j) * 12 + r(i)]!;
  };
  return (wx, wy) => {
    const gx = (wx / 48) * 12 + 0.33 * 6 - 0.5;
    const gy = (wy / 48) * 12 + 0.33 * 6 - 0.5;
    const x0 = Math.floor(gx);
    const y0 = Math.floor(gy);
    const fx = gx - x0;
    const fy = gy - y0;
    return (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
  };
}

/** Background shade at world (wx, wy) for a style: the factor s of img = (base·0.85 + 0.12)·s. */
export function shadeAt(style: Style, wx: number, wy: number, angle: number, period: number, noise?: (x: number, y: number) => number): number {
  const along = wx * Math.cos(angle) + wy * Math.sin(angle);
  switch (style) {
    case "plain":
      return 1;
    case "gradient":
      return 0.35 + 0.65 * Math.min(1, Math.max(0, along / (SIZE * 1.5)));
    case "striped":
      return Math.sin((2 * Math.PI * along) / period) > 0 ? 1 : 0.35;
    case "checkered":
      return (((Math.floor(wx / period) + Math.floor(wy / period)) % 2) + 2) % 2 === 0 ? 1 : 0.35;
    case "noisy":
      return 0.3 + 0.9 * (noise ?? (() => 0.5))(wx, wy);
  }
}

/** Render a clip the way world.render does: background in world coordinates, then sprites over it. */
export function paintClip(spec: PaintSpec): Clip {
  const frames = spec.frames ?? FRAMES;
  const plane = SIZE * SIZE;
  const data = new Float32Array(frames * 3 * plane);
  const styleAngle = spec.styleAngle ?? 0.7;
  const period = spec.stylePeriod ?? 6;
  const noise = noiseField(spec.noiseSeed ?? 1);
  const tint = RGB[spec.background].map((c) => c * 0.85 + 0.12);
  const img = new Float32Array(3 * plane);
  for (let f = 0; f < frames; f++) {
    const [cdx, cdy, zoom] = spec.camera?.[f] ?? [0, 0, 1];
    const wx = (x: number) => (x + 0.5 - SIZE / 2) / zoom + SIZE / 2 + cdx;
    const wy = (y: number) => (y + 0.5 - SIZE / 2) / zoom + SIZE / 2 + cdy;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const s = shadeAt(spec.style, wx(x), wy(y), styleAngle, period, noise);
        for (let c = 0; c < 3; c++) img[c * plane + y * SIZE + x] = tint[c]! * s;
      }
    }
    for (const sp of spec.sprites) {
      const [px, py] = sp.path[f]!;
      const ang = sp.angle?.[f] ?? 0;
      // Sprites live in world coordinates: map the world position to the screen through the camera.
      const sx = (px - SIZE / 2 - cdx) * zoom + SIZE / 2;
      const sy = (py - SIZE / 2 - cdy) * zoom + SIZE / 2;
      const alpha =
        sp.shape === "person"
          ? personAlpha([sx, sy], ang, sp.joints?.[f] ?? [0, 0, 0, 0, 0, 0, 0, 0], SIZE, 7 * zoom)
          : shapeAlpha(sp.shape, sx, sy, ang, sizePx(sp.size ?? null) * zoom);
      const col = RGB[sp.colour];
      for (let p = 0; p < plane; p++) {
        const a = alpha[p]!;
        if (a > 0) for (let c = 0; c < 3; c++) img[c * plane + p] = img[c * plane + p]! * (1 - a) + col[c]! * a;
      }
    }
    for (let i = 0; i < 3 * plane; i++) data[f * 3 * plane + i] = Math.min(1, Math.max(0, img[i]!)) * 2 - 1;
  }
  return { frames, size: SIZE, data };
}

/** A constant path (a still object) of `frames` frames. */
export const stillPath = (x: number, y: number, frames = FRAMES): [number, number][] => Array.from({ length: frames }, () => [x, y]);
