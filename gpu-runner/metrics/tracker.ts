// Point tracks of a generated clip, the input of motion fidelity: per-object centroid tracks, a
// grid of foreground point tracks by block matching, and a grid of camera tracks from a fitted
// pan/tilt/zoom model (phase correlation when the background has no texture to match).
import type { Clip } from "../fym/clip.ts";
import { components, toFrames01, type Component, type Frames01 } from "./segment.ts";
import { globalShiftTrajectory } from "./track.ts";

/** Per frame (x, y) in pixels, pixel centres at +0.5. */
export type Track = [number, number][];
export type Category = "single-object" | "multiple-objects" | "camera-motion" | "human-motion";

export interface ObjectTrack {
  centroid: Track;
  parts: (Component | null)[]; // per frame, the component assigned to this object (null: lost)
}

const dist = (a: [number, number], b: [number, number]) => Math.hypot(a[0] - b[0], a[1] - b[1]);
const colourDist = (a: number[], b: number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);

/** The number of objects: the most common per-frame component count (ties to the larger). */
export function countObjects(perFrame: Component[][]): number {
  const hist = new Map<number, number>();
  for (const cs of perFrame) hist.set(cs.length, (hist.get(cs.length) ?? 0) + 1);
  let best = 0;
  for (const [k, n] of hist) if (n > (hist.get(best) ?? 0) || (n === hist.get(best) && k > best)) best = k;
  return best;
}

function permutations(n: number, k: number): number[][] {
  // All injective maps of k tracks into n components (k, n ≤ a handful in this world).
  if (k === 0) return [[]];
  const out: number[][] = [];
  for (const rest of permutations(n, k - 1)) for (let i = 0; i < n; i++) if (!rest.includes(i)) out.push([...rest, i]);
  return out;
}

/** Objects of a clip, each followed through the frames by predicted position and colour. */
export function detectObjects(clip: Clip, v: Frames01 = toFrames01(clip), perFrame = components(v)): ObjectTrack[] {
  const k = countObjects(perFrame);
  if (k === 0) return [];
  const seed = perFrame.findIndex((cs) => cs.length === k);
  const tracks: ObjectTrack[] = perFrame[seed]!.map(() => ({ centroid: [], parts: [] }));
  const at: [number, number][][] = tracks.map(() => []);
  const part: (Component | null)[][] = tracks.map(() => []);
  const colour = perFrame[seed]!.map((c) => c.colour);
  perFrame[seed]!.forEach((c, i) => {
    at[i]![seed] = [c.cx, c.cy];
    part[i]![seed] = c;
  });
  // Walk away from the seed frame in both directions, predicting each object with constant velocity.
  for (const step of [1, -1]) {
    for (let f = seed + step; f >= 0 && f < v.frames; f += step) {
      const pred = at.map((t) => {
        const a = t[f - step]!;
        const b = t[f - 2 * step];
        return b ? ([a[0] + 0.5 * (a[0] - b[0]), a[1] + 0.5 * (a[1] - b[1])] as [number, number]) : a;
      });
      const cs = perFrame[f]!;
      const m = Math.min(k, cs.length);
      // Match as many tracks as there are components (best subset of tracks), by position and colour.
      let best: { cost: number; assign: (number | -1)[] } = { cost: Infinity, assign: new Array(k).fill(-1) };
      for (const subset of permutations(k, m)) {
        for (const perm of permutations(cs.length, m)) {
          let cost = 0;
          subset.forEach((t, j) => (cost += dist(pred[t]!, [cs[perm[j]!]!.cx, cs[perm[j]!]!.cy]) + 10 * colourDist(colour[t]!, cs[perm[j]!]!.colour)));
          if (cost < best.cost) {
            const assign: (number | -1)[] = new Array(k).fill(-1);
            subset.forEach((t, j) => (assign[t] = perm[j]!));
            best = { cost, assign };
          }
        }
      }
      for (let t = 0; t < k; t++) {
        let c = best.assign[t]! >= 0 ? cs[best.assign[t]!]! : null;
        // An unmatched object has merged with another (overlap) or left the frame: take the nearest
        // component of its colour if it is close, else hold the prediction.
        if (!c) {
          const near = cs.filter((x) => dist(pred[t]!, [x.cx, x.cy]) < 6).sort((x, y) => dist(pred[t]!, [x.cx, x.cy]) - dist(pred[t]!, [y.cx, y.cy]))[0];
          c = near ?? null;
        }
        at[t]![f] = c && best.assign[t]! >= 0 ? [c.cx, c.cy] : pred[t]!;
        part[t]![f] = c;
      }
    }
  }
  return tracks.map((_, t) => ({ centroid: at[t]!, parts: part[t]! }));
}

function sample(img: Float32Array, size: number, c: number, x: number, y: number): number {
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

/**
 * Displacement of the patch around (x, y) from frame a to frame b: integer search around `guess`,
 * cost = mean squared RGB difference + lambda·|d − guess|² (the prior decides along flat colour or
 * stripes, where the image cannot), then Lucas–Kanade steps on the same cost for sub-pixel precision.
 */
function blockMatch(a: Float32Array, b: Float32Array, size: number, x: number, y: number, guess: [number, number], radius: number, search: number, lambda: number): [number, number] {
  const n = (2 * radius + 1) ** 2 * 3;
  const ref = new Float32Array(n);
  let i = 0;
  for (let dy = -radius; dy <= radius; dy++) {
    for (let dx = -radius; dx <= radius; dx++) {
      for (let c = 0; c < 3; c++) {
        ref[i++] = sample(a, size, c, x + dx, y + dy);
      }
    }
  }
  const gx0 = Math.round(guess[0]);
  const gy0 = Math.round(guess[1]);
  const w = 2 * search + 1;
  const cost = new Float64Array(w * w);
  let bi = 0;
  for (let sy = -search; sy <= search; sy++) {
    for (let sx = -search; sx <= search; sx++) {
      const dx = gx0 + sx;
      const dy = gy0 + sy;
      let s = 0;
      let j = 0;
      for (let py = -radius; py <= radius; py++) for (let px = -radius; px <= radius; px++) for (let c = 0; c < 3; c++) s += (sample(b, size, c, x + dx + px, y + dy + py) - ref[j++]!) ** 2;
      const k = (sy + search) * w + sx + search;
      cost[k] = s / n + lambda * ((dx - guess[0]) ** 2 + (dy - guess[1]) ** 2);
      if (cost[k]! < cost[bi]!) bi = k;
    }
  }
  // Lucas–Kanade from the best integer shift: sub-pixel without the bias a parabola through a
  // sharp-edged cost has (a still object would drift by hundredths of a pixel a frame).
  let d: [number, number] = [gx0 + (bi % w) - search, gy0 + Math.floor(bi / w) - search];
  for (let it = 0; it < 6; it++) {
    let axx = lambda;
    let axy = 0;
    let ayy = lambda;
    let rx = lambda * (d[0] - guess[0]);
    let ry = lambda * (d[1] - guess[1]);
    let j = 0;
    for (let py = -radius; py <= radius; py++) {
      for (let px = -radius; px <= radius; px++) {
        for (let c = 0; c < 3; c++) {
          const qx = x + d[0] + px;
          const qy = y + d[1] + py;
          const e = sample(b, size, c, qx, qy) - ref[j++]!;
          const gx = sample(b, size, c, qx + 0.5, qy) - sample(b, size, c, qx - 0.5, qy);
          const gy = sample(b, size, c, qx, qy + 0.5) - sample(b, size, c, qx, qy - 0.5);
          axx += (gx * gx) / n;
          axy += (gx * gy) / n;
          ayy += (gy * gy) / n;
          rx += (gx * e) / n;
          ry += (gy * e) / n;
        }
      }
    }
    const det = axx * ayy - axy * axy;
    if (det < 1e-12) break;
    const sx = Math.max(-0.5, Math.min(0.5, -(ayy * rx - axy * ry) / det));
    const sy = Math.max(-0.5, Math.min(0.5, -(axx * ry - axy * rx) / det));
    d = [d[0] + sx, d[1] + sy];
    if (Math.abs(sx) + Math.abs(sy) < 1e-3) break;
  }
  return d;
}

/** Grid points (every `step` px) on an object's first-frame component, at most `max` of them. */
function gridOn(c: Component, size: number, step: number, max: number): [number, number][] {
  const pts = c.pixels.filter((p) => c.alpha[p]! > 0.5 && (p % size) % step === 0 && Math.floor(p / size) % step === 0).map((p) => [(p % size) + 0.5, Math.floor(p / size) + 0.5] as [number, number]);
  const stride = Math.max(1, Math.ceil(pts.length / max));
  return pts.filter((_, i) => i % stride === 0);
}

/** Foreground point tracks: a grid on each object, block-matched frame to frame around its centroid's motion. */
export function foregroundPointTracks(clip: Clip, objects: ObjectTrack[], v: Frames01 = toFrames01(clip), step = 2, maxPerObject = 24): Track[] {
  const out: Track[] = [];
  for (const o of objects) {
    const first = o.parts.findIndex(Boolean);
    if (first < 0) continue;
    for (const p0 of gridOn(o.parts[first]!, v.size, step, maxPerObject)) {
      const t: Track = new Array(v.frames);
      t[first] = p0;
      for (const dir of [1, -1]) {
        for (let f = first + dir; f >= 0 && f < v.frames; f += dir) {
          const [x, y] = t[f - dir]!;
          const c0 = o.centroid[f - dir]!;
          const c1 = o.centroid[f]!;
          const d = blockMatch(v.rgb[f - dir]!, v.rgb[f]!, v.size, x, y, [c1[0] - c0[0], c1[1] - c0[1]], 2, 3, 0.02);
          t[f] = [x + d[0], y + d[1]];
        }
      }
      out.push(t);
    }
  }
  return out;
}

function blur(img: Float32Array, size: number): Float32Array {
  // Separable [1 4 6 4 1]/16 per channel: the world's stripes and checks have hard, aliased edges
  // whose sub-pixel motion only a smoothed image shows in its gradient.
  const k = [1, 4, 6, 4, 1].map((w) => w / 16);
  const tmp = new Float32Array(img.length);
  const out = new Float32Array(img.length);
  const clamp = (i: number) => Math.min(size - 1, Math.max(0, i));
  for (let c = 0; c < 3; c++) {
    const o = c * size * size;
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) tmp[o + y * size + x] = k.reduce((s, w, j) => s + w * img[o + y * size + clamp(x + j - 2)]!, 0);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[o + y * size + x] = k.reduce((s, w, j) => s + w * tmp[o + clamp(y + j - 2) * size + x]!, 0);
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
    const residual = (th: number[], p: number, x: number, y: number, ch: number) => sample(b, n, ch, x + th[0]! + th[2]! * (x - c), y + th[1]! + th[2]! * (y - c)) - a[ch * n * n + p]!;
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
          const gx = (sample(b, n, ch, wx + 0.5, wy) - sample(b, n, ch, wx - 0.5, wy));
          const gy = (sample(b, n, ch, wx, wy + 0.5) - sample(b, n, ch, wx, wy - 0.5));
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

/** Object tracks: each object's centroid track, then the foreground grid tracks. */
export function objectTracks(clip: Clip): Track[] {
  const v = toFrames01(clip);
  const objects = detectObjects(clip, v);
  return [...objects.map((o) => o.centroid), ...foregroundPointTracks(clip, objects, v)];
}

/** The tracks motion fidelity compares for a clip of a MotionBench category. */
export function tracksFor(clip: Clip, category: Category): Track[] {
  // Human motion: the figure's grid tracks follow limbs and body (approximating its joints), plus its centroid.
  return category === "camera-motion" ? cameraTracks(clip) : objectTracks(clip);
}

/** The one trajectory trajectory correlation compares: the largest object's centroid, or the camera centre's content motion. */
export function mainTrajectory(clip: Clip, category: Category): Track {
  // Off-centre grid point: it moves under zoom as well as pan and tilt.
  if (category === "camera-motion") return cameraTracks(clip)[6]!;
  const v = toFrames01(clip);
  const objects = detectObjects(clip, v);
  if (!objects.length) return Array.from({ length: clip.frames }, () => [clip.size / 2, clip.size / 2]);
  const area = (o: ObjectTrack) => o.parts.reduce((s, p) => s + (p?.area ?? 0), 0);
  return objects.reduce((a, b) => (area(b) > area(a) ? b : a)).centroid;
}
