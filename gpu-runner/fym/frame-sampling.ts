import type { Rng } from "../core/rng.ts";

export type FrameSampling = "strided" | "random" | "window";
export type RopeMode = "adaptive" | "centred" | "plain";

/**
 * Sparse motion sampling: which `k` of the clip's `frames` one temporal-stage step sees.
 * - strided: every (frames/k)-th frame from a random offset, so each step spans the whole motion;
 * - random: a sorted random subset;
 * - window: k consecutive frames from a random start, so every step sees the one-frame gaps
 *   generation renders (strided steps only ever see gaps of frames/k).
 */
export function sampleFrames(rng: Rng, frames: number, k: number, how: FrameSampling): number[] {
  if (k >= frames) return Array.from({ length: frames }, (_, i) => i);
  if (how === "strided") {
    const stride = frames / k;
    const offset = rng.next() * stride;
    return Array.from({ length: k }, (_, i) => Math.min(frames - 1, Math.floor(offset + i * stride)));
  }
  if (how === "window") {
    const start = rng.int(frames - k + 1);
    return Array.from({ length: k }, (_, i) => start + i);
  }
  const picked = new Set<number>();
  while (picked.size < k) picked.add(rng.int(frames));
  return [...picked].sort((a, b) => a - b);
}

/**
 * Temporal RoPE positions for the sampled frames. Adaptive RoPE keeps their original indices, so
 * the gaps the LoRA learns across are the real ones and generation at the full frame count
 * interpolates between them; "centred" is the FYM paper's formula, frame i of k placed at
 * F/2 + (F/k)(i − k/2), i.e. evenly spread at the full clip's spacing whatever frames were drawn;
 * plain RoPE renumbers them 0..k-1 (the ablation).
 */
export function framePositions(indices: number[], mode: RopeMode, total = indices.length): Float32Array {
  const k = indices.length;
  if (mode === "centred") return Float32Array.from(indices, (_, i) => total / 2 + (total / k) * (i - k / 2));
  return Float32Array.from(indices, (f, i) => (mode === "adaptive" ? f : i));
}
