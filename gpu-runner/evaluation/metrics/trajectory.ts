import type { Clip } from "../../core/clip.ts";

/** One (x, y) per frame in pixels: an object's centroid, or the whole frame's shift. */
export type Trajectory = [number, number][];

/**
 * Foreground of each frame: pixels far (L2 over RGB in [-1, 1]) from the clip's per-pixel temporal
 * median, which is the background wherever objects move on a static camera.
 */
export function foregroundMasks(clip: Clip, threshold = 0.35): Uint8Array[] {
  const { frames, size } = clip;
  const plane = size * size;
  const median = new Float32Array(3 * plane);
  const column = new Float32Array(frames);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < plane; p++) {
      for (let f = 0; f < frames; f++) column[f] = clip.data[(f * 3 + c) * plane + p]!;
      column.sort();
      median[c * plane + p] = frames % 2 ? column[(frames - 1) / 2]! : (column[frames / 2 - 1]! + column[frames / 2]!) / 2;
    }
  }
  return Array.from({ length: frames }, (_, f) => {
    const mask = new Uint8Array(plane);
    for (let p = 0; p < plane; p++) {
      let d = 0;
      for (let c = 0; c < 3; c++) {
        const diff = clip.data[(f * 3 + c) * plane + p]! - median[c * plane + p]!;
        d += diff * diff;
      }
      mask[p] = d > threshold * threshold ? 1 : 0;
    }
    return mask;
  });
}

/** Centroid (x, y) in pixels of each mask; a frame with no foreground repeats the previous centroid. */
export function centroids(masks: Uint8Array[], size: number): Trajectory {
  const out: Trajectory = [];
  for (const m of masks) {
    let n = 0;
    let sx = 0;
    let sy = 0;
    for (let p = 0; p < m.length; p++) {
      if (!m[p]) continue;
      n++;
      sx += (p % size) + 0.5;
      sy += Math.floor(p / size) + 0.5;
    }
    out.push(n > 0 ? [sx / n, sy / n] : (out[out.length - 1] ?? [size / 2, size / 2]));
  }
  return out;
}

/** The foreground trajectory of a clip: its moving parts' centroid per frame. */
export const objectTrajectory = (clip: Clip) => centroids(foregroundMasks(clip), clip.size);

function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const ar = re[i + k + len / 2]! * wr - im[i + k + len / 2]! * wi;
        const ai = re[i + k + len / 2]! * wi + im[i + k + len / 2]! * wr;
        re[i + k + len / 2] = re[i + k]! - ar;
        im[i + k + len / 2] = im[i + k]! - ai;
        re[i + k] = re[i + k]! + ar;
        im[i + k] = im[i + k]! + ai;
      }
    }
  }
}

function fft2(re: Float64Array, im: Float64Array, size: number, inverse = false): void {
  const rowRe = new Float64Array(size);
  const rowIm = new Float64Array(size);
  for (let pass = 0; pass < 2; pass++) {
    for (let a = 0; a < size; a++) {
      for (let b = 0; b < size; b++) {
        const idx = pass === 0 ? a * size + b : b * size + a;
        rowRe[b] = re[idx]!;
        rowIm[b] = im[idx]!;
      }
      fft(rowRe, rowIm, inverse);
      for (let b = 0; b < size; b++) {
        const idx = pass === 0 ? a * size + b : b * size + a;
        re[idx] = rowRe[b]!;
        im[idx] = rowIm[b]!;
      }
    }
  }
}

function luminance(clip: Clip, f: number): Float64Array {
  const plane = clip.size * clip.size;
  const out = new Float64Array(plane);
  let mean = 0;
  for (let p = 0; p < plane; p++) {
    out[p] = (clip.data[f * 3 * plane + p]! + clip.data[(f * 3 + 1) * plane + p]! + clip.data[(f * 3 + 2) * plane + p]!) / 3;
    mean += out[p]!;
  }
  mean /= plane;
  // Hann window against the wrap-around edges of the DFT.
  for (let y = 0; y < clip.size; y++) {
    for (let x = 0; x < clip.size; x++) {
      const w = (0.5 - 0.5 * Math.cos((2 * Math.PI * (x + 0.5)) / clip.size)) * (0.5 - 0.5 * Math.cos((2 * Math.PI * (y + 0.5)) / clip.size));
      out[y * clip.size + x] = (out[y * clip.size + x]! - mean) * w;
    }
  }
  return out;
}

/**
 * Camera motion as a global shift per frame: phase correlation between consecutive frames
 * (peak of the normalised cross-power spectrum, refined to sub-pixel by a parabola), accumulated.
 * The clip size must be a power of two.
 */
export function globalShiftTrajectory(clip: Clip): Trajectory {
  const n = clip.size;
  const out: Trajectory = [[0, 0]];
  let prev = luminance(clip, 0);
  for (let f = 1; f < clip.frames; f++) {
    const cur = luminance(clip, f);
    const ar = Float64Array.from(prev);
    const ai = new Float64Array(n * n);
    const br = Float64Array.from(cur);
    const bi = new Float64Array(n * n);
    fft2(ar, ai, n);
    fft2(br, bi, n);
    const cr = new Float64Array(n * n);
    const ci = new Float64Array(n * n);
    for (let i = 0; i < n * n; i++) {
      // B · conj(A): the peak sits at the shift that moves frame f-1 onto frame f.
      const re = br[i]! * ar[i]! + bi[i]! * ai[i]!;
      const im = bi[i]! * ar[i]! - br[i]! * ai[i]!;
      const mag = Math.hypot(re, im) + 1e-12;
      cr[i] = re / mag;
      ci[i] = im / mag;
    }
    fft2(cr, ci, n, true);
    let best = 0;
    for (let i = 1; i < n * n; i++) if (cr[i]! > cr[best]!) best = i;
    const by = Math.floor(best / n);
    const bx = best % n;
    const at = (y: number, x: number) => cr[(((y % n) + n) % n) * n + (((x % n) + n) % n)]!;
    const refine = (m: number, c: number, p: number) => (m - p) / (2 * (m - 2 * c + p) || 1);
    let dx = bx + refine(at(by, bx - 1), at(by, bx), at(by, bx + 1));
    let dy = by + refine(at(by - 1, bx), at(by, bx), at(by + 1, bx));
    if (dx > n / 2) dx -= n;
    if (dy > n / 2) dy -= n;
    const [px, py] = out[out.length - 1]!;
    out.push([px + dx, py + dy]);
    prev = cur;
  }
  return out;
}

/**
 * Agreement of two trajectories: the mean cosine similarity of their per-frame displacement
 * vectors (direction of motion, frames where either is still skipped), and the Pearson correlation
 * of the mean-removed coordinates (shape of the path).
 */
export function trajectoryAgreement(a: Trajectory, b: Trajectory, still = 0.05): { displacementCosine: number; correlation: number } {
  const n = Math.min(a.length, b.length);
  let cos = 0;
  let count = 0;
  for (let i = 1; i < n; i++) {
    const ax = a[i]![0] - a[i - 1]![0];
    const ay = a[i]![1] - a[i - 1]![1];
    const bx = b[i]![0] - b[i - 1]![0];
    const by = b[i]![1] - b[i - 1]![1];
    const na = Math.hypot(ax, ay);
    const nb = Math.hypot(bx, by);
    if (na < still || nb < still) continue;
    cos += (ax * bx + ay * by) / (na * nb);
    count++;
  }
  const flat = (t: Trajectory) => {
    const mx = t.slice(0, n).reduce((s, p) => s + p[0], 0) / n;
    const my = t.slice(0, n).reduce((s, p) => s + p[1], 0) / n;
    return t.slice(0, n).flatMap((p) => [p[0] - mx, p[1] - my]);
  };
  const fa = flat(a);
  const fb = flat(b);
  const dot = fa.reduce((s, v, i) => s + v * fb[i]!, 0);
  const norm = Math.sqrt(fa.reduce((s, v) => s + v * v, 0) * fb.reduce((s, v) => s + v * v, 0));
  return { displacementCosine: count ? cos / count : 0, correlation: norm > 1e-9 ? dot / norm : 0 };
}
