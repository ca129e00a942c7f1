// The clip layout every part of the runner shares (the engines take it, fym tunes on it, metrics
// measure it): in core/, so that evaluation/metrics/ depends on none of the pipeline it judges.
import type { Frames } from "../../sdk/video/frames.ts";

/** A clip in the model's layout: (frames, 3, size, size) float32 in [-1, 1]. */
export interface Clip {
  frames: number;
  size: number;
  data: Float32Array;
}

/** Raw uint8 RGB frames (frames, height, width, 3) -> the model's clip layout. */
export function clipFromRgb(rgb: Uint8Array, frames: number, size: number): Clip {
  if (rgb.length !== frames * size * size * 3) {
    throw new RangeError(`expected ${frames}×${size}×${size}×3 = ${frames * size * size * 3} bytes of RGB, got ${rgb.length}`);
  }
  const data = new Float32Array(frames * 3 * size * size);
  const plane = size * size;
  for (let f = 0; f < frames; f++) {
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) data[(f * 3 + c) * plane + p] = (rgb[(f * plane + p) * 3 + c]! / 255) * 2 - 1;
    }
  }
  return { frames, size, data };
}

/** The model's clip layout -> uint8 RGB frames (frames, height, width, 3). */
export function clipToRgb(clip: Clip): Uint8Array {
  const plane = clip.size * clip.size;
  const out = new Uint8Array(clip.frames * plane * 3);
  for (let f = 0; f < clip.frames; f++) {
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) {
        const v = clip.data[(f * 3 + c) * plane + p]!;
        out[(f * plane + p) * 3 + c] = Math.round(Math.min(1, Math.max(-1, v)) * 127.5 + 127.5);
      }
    }
  }
  return out;
}

/** The model's clip layout -> the SDK's RGB Frames (what the video encoders take). */
export function clipToFrames(clip: Clip): Frames {
  return { width: clip.size, height: clip.size, count: clip.frames, rgb: clipToRgb(clip) };
}

/** The frames at `indices`, in that order, as a new clip. */
export function selectFrames(clip: Clip, indices: number[]): Clip {
  const per = 3 * clip.size * clip.size;
  const data = new Float32Array(indices.length * per);
  for (const [i, f] of indices.entries()) data.set(clip.data.subarray(f * per, (f + 1) * per), i * per);
  return { frames: indices.length, size: clip.size, data };
}

/** Refuses a clip whose frame count or size is not the model's. */
export function checkClip(clip: Clip, cfg: { frames: number; size: number }): void {
  if (clip.size !== cfg.size || clip.frames !== cfg.frames) {
    throw new RangeError(`the model works on ${cfg.frames} frames of ${cfg.size}×${cfg.size}; this clip is ${clip.frames} frames of ${clip.size}×${clip.size}`);
  }
}
