// Point tracks of a generated clip, the input of motion fidelity: per-object centroid tracks, a
// grid of foreground point tracks by block matching, and a grid of camera tracks from a fitted
// pan/tilt/zoom model (phase correlation when the background has no texture to match).
import type { Clip } from "../../core/clip.ts";
import { minCostAssignment } from "./assignment.ts";
import { cameraTracks } from "./camera.ts";
import type { Track } from "./point-track.ts";
import { components, sample, toFrames01, type Component, type Frames01 } from "./segment.ts";

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
      // Match as many tracks as there are components (best subset of tracks), by position and colour.
      const assign = minCostAssignment(pred.map((p, t) => cs.map((x) => dist(p, [x.cx, x.cy]) + 10 * colourDist(colour[t]!, x.colour))));
      for (let t = 0; t < k; t++) {
        let c = assign[t]! >= 0 ? cs[assign[t]!]! : null;
        // An unmatched object has merged with another (overlap) or left the frame: take the nearest
        // component of its colour if it is close, else hold the prediction.
        if (!c) {
          const near = cs.filter((x) => dist(pred[t]!, [x.cx, x.cy]) < 6).sort((x, y) => dist(pred[t]!, [x.cx, x.cy]) - dist(pred[t]!, [y.cx, y.cy]))[0];
          c = near ?? null;
        }
        at[t]![f] = c && assign[t]! >= 0 ? [c.cx, c.cy] : pred[t]!;
        part[t]![f] = c;
      }
    }
  }
  return tracks.map((_, t) => ({ centroid: at[t]!, parts: part[t]! }));
}

/**
 * Displacement of the patch around (x, y) from frame a to frame b: integer search around `guess`,
 * cost = mean squared RGB difference + lambda·|d − guess|² (the prior decides along flat colour or
 * stripes, where the image cannot), then Lucas–Kanade steps on the same cost for sub-pixel precision.
 */
function blockMatch(
  a: Float32Array,
  b: Float32Array,
  size: number,
  x: number,
  y: number,
  guess: [number, number],
  radius: number,
  search: number,
  lambda: number,
): [number, number] {
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
      for (let py = -radius; py <= radius; py++)
        for (let px = -radius; px <= radius; px++) for (let c = 0; c < 3; c++) s += (sample(b, size, c, x + dx + px, y + dy + py) - ref[j++]!) ** 2;
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
  const pts = c.pixels
    .filter((p) => c.alpha[p]! > 0.5 && (p % size) % step === 0 && Math.floor(p / size) % step === 0)
    .map((p) => [(p % size) + 0.5, Math.floor(p / size) + 0.5] as [number, number]);
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
