// Motion fidelity as Yatim et al. define it (DMT, "Space-Time Diffusion Features for Zero-Shot
// Text-Driven Motion Transfer", CVPR 2024): tracklets of the generated clip are compared with the
// reference's by the mean cosine of their frame-to-frame displacements, each generated tracklet
// scored by its best-matching reference tracklet. Direction, not speed or position, is compared:
// a transferred motion may be drawn at another place and scale.
import type { Clip } from "../../core/clip.ts";
import type { Track } from "./point-track.ts";
import { mainTrajectory, type Category } from "./tracker.ts";
import { trajectoryAgreement } from "./trajectory.ts";

/**
 * Stillness threshold in pixels per frame. The reference clips stop (corners with stops,
 * stop-and-go pans): a cosine of two near-zero vectors is the direction of tracker noise, so it is
 * replaced by agreement 1 when both stand still and 0 when only one does. 0.25 px sits above the
 * tracker's per-frame error on rendered clips (≤ 0.1 px typical, ≤ 0.2 px at worst on centroids)
 * and well below the slowest motion the world renders as motion (≈ 0.5 px/frame).
 */
export const STILL_EPS = 0.25;

/** Mean over frames of the per-frame displacement agreement of two tracklets (in [−1, 1]). */
export function trackletCorrelation(a: Track, b: Track, eps = STILL_EPS): number {
  const n = Math.min(a.length, b.length);
  if (n < 2) return 0;
  let sum = 0;
  for (let i = 1; i < n; i++) {
    const ax = a[i]![0] - a[i - 1]![0];
    const ay = a[i]![1] - a[i - 1]![1];
    const bx = b[i]![0] - b[i - 1]![0];
    const by = b[i]![1] - b[i - 1]![1];
    const na = Math.hypot(ax, ay);
    const nb = Math.hypot(bx, by);
    if (na < eps && nb < eps) sum += 1;
    else if (na < eps || nb < eps) sum += 0;
    else sum += (ax * bx + ay * by) / (na * nb);
  }
  return sum / (n - 1);
}

/**
 * DMT motion fidelity: the mean over generated tracklets of their best reference tracklet's
 * correlation. `symmetric` also averages the other direction (each reference tracklet's best
 * generated match), so a clip that moves only one part of the reference motion scores lower.
 */
export function motionFidelity(generated: Track[], reference: Track[], opts: { eps?: number; symmetric?: boolean } = {}): number {
  if (!generated.length || !reference.length) return 0;
  const corr = generated.map((g) => reference.map((r) => trackletCorrelation(g, r, opts.eps)));
  const forward = corr.reduce((s, row) => s + Math.max(...row), 0) / generated.length;
  if (!opts.symmetric) return forward;
  const backward = reference.reduce((s, _, j) => s + Math.max(...corr.map((row) => row[j]!)), 0) / reference.length;
  return (forward + backward) / 2;
}

/** Pearson correlation of two mean-removed trajectories (x and y stacked): the shape of the path. */
export const trajectoryCorrelation = (a: Track, b: Track): number => trajectoryAgreement(a, b).correlation;

/** Trajectory correlation of the generated clip's main trajectory (largest object's centroid, or camera) with the reference's (a clip, or a track such as a truth path). */
export function mainTrajectoryCorrelation(generated: Clip, reference: Clip | Track, category: Category): number {
  const ref = Array.isArray(reference) ? reference : mainTrajectory(reference, category);
  return trajectoryCorrelation(mainTrajectory(generated, category), ref);
}

export interface Truth {
  paths: [number, number][][];
  camera: [number, number, number][];
  tracks?: [number, number][][];
}

/**
 * Reference tracks from a MotionBench clip's ground truth: its `tracks` when the manifest has them;
 * else the object paths, or for camera motion a 5×5 grid of world points seen through the camera
 * (screen = (world − centre − d)·zoom + centre, as world.render places the world).
 */
export function truthTracks(truth: Truth, category: Category, size = 32): Track[] {
  if (truth.tracks?.length) return truth.tracks;
  if (category !== "camera-motion") return truth.paths;
  const c = size / 2;
  const [dx0, dy0, z0] = truth.camera[0]!;
  const out: Track[] = [];
  for (let gy = 0; gy < 5; gy++) {
    for (let gx = 0; gx < 5; gx++) {
      const wx = (4 + gx * 6 - c) / z0 + c + dx0;
      const wy = (4 + gy * 6 - c) / z0 + c + dy0;
      out.push(truth.camera.map(([dx, dy, z]) => [(wx - c - dx) * z + c, (wy - c - dy) * z + c]));
    }
  }
  return out;
}
