// Camera tracks: pan, tilt and zoom fitted per frame pair to the whole frame, then a grid of
// points carried through the fitted motion (phase correlation where there is no texture).
import type { Clip } from "../../core/clip.ts";
import type { Track } from "./point-track.ts";
import { sample, toFrames01, type Frames01 } from "./segment.ts";
import { globalShiftTrajectory } from "./trajectory.ts";

function blur(img: Float32Array, size: number): Float32Array {
  // Separable [1 4 6 4 1]/16 per channel: the world's stripes and checks have hard, aliased edges
  // whose sub-pixel motion only a smoothed image shows in its gradient.
  const k = [1, 4, 6, 4, 1].map((w) => w / 16);
  const tmp = new Float32Array(img.length);
  const out = new Float32Array(img.length);
  const clamp = (i: number) => Math.min(size - 1, Math.max(0, i));
  for (let c = 0; c < 3; c++) {
    const o = c * size * size;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) tmp[o + y * size + x] = k.reduce((s, w, j) => s + w * img[o + y * size + clamp(x + j - 2)]!, 0);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) out[o + y * size + x] = k.reduce((s, w, j) => s + w * tmp[o + clamp(y + j - 2) * size + x]!, 0);
  }
  return out;
}

/**
 * Camera motion per frame pair as d(p) = t + s·(p − centre) (pan, tilt, zoom): a coarse integer
 * search for t, then Gauss–Newton on the whole (blurred) frame, Lucas–Kanade style. Directions no
 * texture constrains (a background of parallel stripes with nothing on it) stay at zero through a
 * small ridge; a frame pair with no texture at all takes phase correlation's shift. [tx, ty, s] per pair.
 */
export function cameraModel(clip: Clip, v: Frames01 = toFrames01(clip)): [number, number, number][] {
  const n = v.size;
  const c = n / 2;
  const phase = globalShiftTrajectory(clip);
  const frames = v.rgb.map((img) => blur(img, n));
  const out: [number, number, number][] = [];
  for (let f = 1; f < v.frames; f++) {
    const a = frames[f - 1]!;
    const b = frames[f]!;
    const residual = (th: number[], p: number, x: number, y: number, ch: number) =>
      sample(b, n, ch, x + th[0]! + th[2]! * (x - c), y + th[1]! + th[2]! * (y - c)) - a[ch * n * n + p]!;
    const inside = (th: number[], x: number, y: number) => {
      const wx = x + th[0]! + th[2]! * (x - c);
      const wy = y + th[1]! + th[2]! * (y - c);
      return wx > 1 && wy > 1 && wx < n - 1 && wy < n - 1 && x > 2 && y > 2 && x < n - 2 && y < n - 2;
    };
    let th = [0, 0, 0];
    let best = Infinity;
    for (let ty = -5; ty <= 5; ty++) {
      for (let tx = -5; tx <= 5; tx++) {
        let e = 0;
        let m = 0;
        // Integer shifts: plain indexing, no interpolation.
        for (let y = 3; y < n - 3; y++) {
          const yy = y + ty;
          if (yy < 1 || yy >= n - 1) continue;
          for (let x = 3; x < n - 3; x++) {
            const xx = x + tx;
            if (xx < 1 || xx >= n - 1) continue;
            for (let ch = 0; ch < 3; ch++) e += (b[ch * n * n + yy * n + xx]! - a[ch * n * n + y * n + x]!) ** 2;
            m++;
          }
        }
        // Per overlapping pixel, plus a little for distance: ties (stripes) go to the smaller motion.
        const score = e / Math.max(1, m) + 1e-4 * (tx * tx + ty * ty);
        if (score < best) [best, th] = [score, [tx, ty, 0]];
      }
    }
    let energy = 0;
    for (let it = 0; it < 12; it++) {
      const A = [0, 0, 0, 0, 0, 0, 0, 0, 0];
      const r = [0, 0, 0];
      energy = 0;
      for (let p = 0; p < n * n; p++) {
        const x = (p % n) + 0.5;
        const y = Math.floor(p / n) + 0.5;
        if (!inside(th, x, y)) continue;
        const wx = x + th[0]! + th[2]! * (x - c);
        const wy = y + th[1]! + th[2]! * (y - c);
        for (let ch = 0; ch < 3; ch++) {
          const gx = sample(b, n, ch, wx + 0.5, wy) - sample(b, n, ch, wx - 0.5, wy);
          const gy = sample(b, n, ch, wx, wy + 0.5) - sample(b, n, ch, wx, wy - 0.5);
          const J = [gx, gy, gx * (x - c) + gy * (y - c)];
          const e = residual(th, p, x, y, ch);
          energy += gx * gx + gy * gy;
          for (let i = 0; i < 3; i++) {
            r[i] = r[i]! - J[i]! * e;
            for (let j = 0; j < 3; j++) A[i * 3 + j] = A[i * 3 + j]! + J[i]! * J[j]!;
          }
        }
      }
      const ridge = 1e-3 * energy;
      A[0] = A[0]! + ridge;
      A[4] = A[4]! + ridge;
      A[8] = A[8]! + ridge * 100;
      const step = solve3(A, r);
      th = th.map((t, i) => t + step[i]!);
      if (Math.hypot(step[0], step[1], step[2] * c) < 1e-3) break;
    }
    if (energy < 0.5) {
      const [px, py] = phase[f - 1]!;
      const [qx, qy] = phase[f]!;
      out.push([qx - px, qy - py, 0]);
    } else out.push([th[0]!, th[1]!, th[2]!]);
  }
  return out;
}

function solve3(A: number[], b: number[]): [number, number, number] {
  const det = (m: number[]) => m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
  const D = det(A) || 1e-12;
  const col = (k: number) => det(A.map((v, i) => (i % 3 === k ? b[Math.floor(i / 3)]! : v)));
  return [col(0) / D, col(1) / D, col(2) / D];
}

/** Camera tracks: a 5×5 grid of first-frame points carried through the fitted camera model. */
export function cameraTracks(clip: Clip, v: Frames01 = toFrames01(clip)): Track[] {
  const model = cameraModel(clip, v);
  const c = v.size / 2;
  const out: Track[] = [];
  for (let gy = 0; gy < 5; gy++) {
    for (let gx = 0; gx < 5; gx++) {
      let p: [number, number] = [4 + gx * 6, 4 + gy * 6];
      const t: Track = [p];
      for (const [tx, ty, s] of model) {
        p = [p[0] + tx + s * (p[0] - c), p[1] + ty + s * (p[1] - c)];
        t.push(p);
      }
      out.push(t);
    }
  }
  return out;
}
