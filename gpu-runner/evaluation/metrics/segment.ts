// Foreground segmentation suited to the synthetic world: every object colour has a channel ≥ 0.9
// while backgrounds are dark ((base·0.85 + 0.12)·shade: ≤ 0.42 per channel, ≤ 0.5 on the brightest
// noise), so the brightest channel separates them; distance from the temporal median adds the
// blurred edges of moving objects, which a generated clip smears below the brightness cut.
import type { Clip } from "../../core/clip.ts";
import { OBJECT_COLOURS, RGB } from "./paint.ts";

/** Brightest channel ≥ this: certainly an object pixel (gpu-runner/model/fymnet/evaluation/masks.py uses the same cut). */
export const STRONG = 0.62;
/** Brightest channel ≥ this: may be an object pixel (its soft edge); grows components from strong pixels. */
export const WEAK = 0.52;
/** A component needs this many strong pixels: a lone bright pixel of a generated clip is noise, not an object. */
export const MIN_AREA = 3;

export interface Component {
  pixels: number[]; // indices y·size + x of the (weak-grown) component
  area: number; // strong pixels
  cx: number; // soft-weighted centroid, pixel centres at +0.5
  cy: number;
  colour: [number, number, number]; // mean RGB in [0, 1] of the component's brightest pixels
  alpha: Float32Array; // size² estimated coverage of this object (0 elsewhere)
}

export interface Frames01 {
  frames: number;
  size: number;
  rgb: Float32Array[]; // per frame, 3·size² in [0, 1], channel-major
  bright: Float32Array[]; // per frame, size²: the brightest channel
}

/** The clip in [0, 1] with its per-pixel brightest channel. */
export function toFrames01(clip: Clip): Frames01 {
  const plane = clip.size * clip.size;
  const rgb: Float32Array[] = [];
  const bright: Float32Array[] = [];
  for (let f = 0; f < clip.frames; f++) {
    const img = new Float32Array(3 * plane);
    const b = new Float32Array(plane);
    for (let i = 0; i < 3 * plane; i++) img[i] = (clip.data[f * 3 * plane + i]! + 1) / 2;
    for (let p = 0; p < plane; p++) b[p] = Math.max(img[p]!, img[plane + p]!, img[2 * plane + p]!);
    rgb.push(img);
    bright.push(b);
  }
  return { frames: clip.frames, size: clip.size, rgb, bright };
}

function temporalMedian(v: Frames01): Float32Array {
  const plane = v.size * v.size;
  const out = new Float32Array(3 * plane);
  const col = new Float32Array(v.frames);
  for (let i = 0; i < 3 * plane; i++) {
    for (let f = 0; f < v.frames; f++) col[f] = v.rgb[f]![i]!;
    col.sort();
    out[i] = col[v.frames >> 1]!;
  }
  return out;
}

/** Per frame, the object components (largest first). */
export function components(v: Frames01): Component[][] {
  const { size } = v;
  const plane = size * size;
  const median = temporalMedian(v);
  const out: Component[][] = [];
  for (let f = 0; f < v.frames; f++) {
    const img = v.rgb[f]!;
    const b = v.bright[f]!;
    const strong = new Uint8Array(plane);
    const weak = new Uint8Array(plane);
    for (let p = 0; p < plane; p++) {
      let d2 = 0;
      for (let c = 0; c < 3; c++) d2 += (img[c * plane + p]! - median[c * plane + p]!) ** 2;
      strong[p] = b[p]! >= STRONG || (b[p]! >= WEAK && d2 >= 0.25 * 0.25) ? 1 : 0;
      weak[p] = b[p]! >= WEAK || strong[p]! ? 1 : 0;
    }
    const label = new Int32Array(plane).fill(-1);
    const comps: Component[] = [];
    for (let s = 0; s < plane; s++) {
      if (!strong[s] || label[s]! >= 0) continue;
      const pixels: number[] = [];
      const stack = [s];
      label[s] = comps.length;
      while (stack.length) {
        const p = stack.pop()!;
        pixels.push(p);
        const x = p % size;
        const y = (p - x) / size;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const nx = x + dx;
            const ny = y + dy;
            if (nx < 0 || ny < 0 || nx >= size || ny >= size) continue;
            const q = ny * size + nx;
            if (weak[q] && label[q]! < 0) {
              label[q] = comps.length;
              stack.push(q);
            }
          }
        }
      }
      for (const part of splitByColour(pixels, img, b, size)) {
        const area = part.reduce((n, p) => n + strong[p]!, 0);
        if (area >= MIN_AREA) comps.push(describe(part, area, img, b, weak, size));
      }
      comps.push(null as unknown as Component); // labels stay distinct per flood fill; nulls dropped below
    }
    out.push(mergeNear(comps.filter(Boolean), v, f).sort((a, c) => c.area - a.area));
  }
  return out;
}

const PALETTE = OBJECT_COLOURS.map((c) => {
  const rgb = RGB[c];
  const m = Math.max(...rgb);
  return rgb.map((v) => v / m);
});

function paletteIndex(img: Float32Array, plane: number, p: number): number {
  const rgb = [img[p]!, img[plane + p]!, img[2 * plane + p]!];
  const m = Math.max(...rgb, 1e-6);
  let best = 0;
  let bd = Infinity;
  PALETTE.forEach((q, i) => {
    const d = Math.hypot(rgb[0]! / m - q[0]!, rgb[1]! / m - q[1]!, rgb[2]! / m - q[2]!);
    if (d < bd) [bd, best] = [d, i];
  });
  return best;
}

/**
 * One connected blob may be several overlapping objects (the world draws them over each other; its
 * multi-object captions never repeat a colour). A palette colour is an object of its own when it
 * has an interior pixel (its 3×3 neighbourhood all that colour, which the 1-px blend along the seam
 * between two objects never has) and ≥ 4 bright pixels; every pixel then goes to the nearest such colour.
 */
function splitByColour(pixels: number[], img: Float32Array, b: Float32Array, size: number): number[][] {
  const plane = size * size;
  const cls = new Map<number, number>();
  for (const p of pixels) if (b[p]! >= 0.75) cls.set(p, paletteIndex(img, plane, p));
  const count = new Map<number, number>();
  const interior = new Set<number>();
  for (const [p, k] of cls) {
    count.set(k, (count.get(k) ?? 0) + 1);
    const x = p % size;
    const y = (p - x) / size;
    let all = x > 0 && y > 0 && x < size - 1 && y < size - 1;
    for (let dy = -1; dy <= 1 && all; dy++) for (let dx = -1; dx <= 1 && all; dx++) all = cls.get(p + dy * size + dx) === k;
    if (all) interior.add(k);
  }
  const keep = [...interior].filter((k) => (count.get(k) ?? 0) >= 4);
  if (keep.length < 2) return [pixels];
  const parts: number[][] = keep.map(() => []);
  for (const p of pixels) {
    const rgb = [img[p]!, img[plane + p]!, img[2 * plane + p]!];
    const m = Math.max(...rgb, 1e-6);
    let best = 0;
    let bd = Infinity;
    keep.forEach((k, i) => {
      const q = PALETTE[k]!;
      const d = Math.hypot(rgb[0]! / m - q[0]!, rgb[1]! / m - q[1]!, rgb[2]! / m - q[2]!);
      if (d < bd) [bd, best] = [d, i];
    });
    parts[best]!.push(p);
  }
  return parts;
}

/**
 * Components of one colour less than 2 px apart are one object whose thin part (a stick figure's
 * limb, a star's tip) fell below the cut: merged, so an object is never counted twice.
 */
function mergeNear(comps: Component[], v: Frames01, f: number): Component[] {
  const size = v.size;
  for (let i = 0; i < comps.length; i++) {
    for (let j = i + 1; j < comps.length; j++) {
      const a = comps[i]!;
      const b = comps[j]!;
      // Chroma (colour over its brightest channel): a thin part is a dimmer blend of the same colour.
      const ma = Math.max(...a.colour, 1e-6);
      const mb = Math.max(...b.colour, 1e-6);
      if (Math.hypot(...a.colour.map((c, k) => c / ma - b.colour[k]! / mb)) > 0.25) continue;
      const near = a.pixels.some((p) =>
        b.pixels.some((q) => Math.max(Math.abs((p % size) - (q % size)), Math.abs(Math.floor(p / size) - Math.floor(q / size))) <= 2),
      );
      if (!near) continue;
      const weak = new Uint8Array(size * size);
      for (const p of [...a.pixels, ...b.pixels]) weak[p] = 1;
      comps[i] = describe([...a.pixels, ...b.pixels], a.area + b.area, v.rgb[f]!, v.bright[f]!, weak, size);
      comps.splice(j, 1);
      j = i;
    }
  }
  return comps;
}

function describe(pixels: number[], area: number, img: Float32Array, b: Float32Array, weak: Uint8Array, size: number): Component {
  const plane = size * size;
  // Object level: the component's bright core; background level: the ring just outside it.
  const levels = pixels.map((p) => b[p]!).sort((x, y) => x - y);
  const hi = levels[Math.floor(levels.length * 0.9)] ?? levels[levels.length - 1]!;
  const ring: number[] = [];
  for (const p of pixels) {
    const x = p % size;
    const y = (p - x) / size;
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx >= 0 && ny >= 0 && nx < size && ny < size && !weak[ny * size + nx]) ring.push(b[ny * size + nx]!);
      }
    }
  }
  ring.sort((x, y) => x - y);
  const lo = Math.min(ring[ring.length >> 1] ?? 0.2, hi - 0.1);
  const alpha = new Float32Array(plane);
  let sw = 0;
  let sx = 0;
  let sy = 0;
  // Coverage-weighted centroid: the soft edge cut at WEAK is symmetric around the object, so it stays sub-pixel.
  for (const p of pixels) {
    const a = Math.min(1, Math.max(0, (b[p]! - lo) / (hi - lo)));
    alpha[p] = a;
    sw += a;
    sx += a * ((p % size) + 0.5);
    sy += a * (Math.floor(p / size) + 0.5);
  }
  const colour: [number, number, number] = [0, 0, 0];
  let n = 0;
  for (const p of pixels) {
    if (b[p]! < hi - 0.05) continue;
    for (let c = 0; c < 3; c++) colour[c] = colour[c]! + img[c * plane + p]!;
    n++;
  }
  return { pixels, area, cx: sx / sw, cy: sy / sw, colour: colour.map((c) => c / Math.max(1, n)) as [number, number, number], alpha };
}

/** Bilinear sample of channel c at pixel-centre coordinates (x, y), clamped at the border. */
export function sample(img: Float32Array, size: number, c: number, x: number, y: number): number {
  // Bilinear at pixel-centre coordinates, clamped at the border.
  const fx = Math.min(size - 1, Math.max(0, x - 0.5));
  const fy = Math.min(size - 1, Math.max(0, y - 0.5));
  const x0 = Math.min(size - 2, Math.floor(fx));
  const y0 = Math.min(size - 2, Math.floor(fy));
  const ax = fx - x0;
  const ay = fy - y0;
  const o = c * size * size;
  return (
    (img[o + y0 * size + x0]! * (1 - ax) + img[o + y0 * size + x0 + 1]! * ax) * (1 - ay) +
    (img[o + (y0 + 1) * size + x0]! * (1 - ax) + img[o + (y0 + 1) * size + x0 + 1]! * ax) * ay
  );
}
