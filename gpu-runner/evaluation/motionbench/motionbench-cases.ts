import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { clipFromRgb, type Clip } from "../../core/clip.ts";
import { DEFAULT_ARTIFACTS } from "../../engine/manifest.ts";

export type MotionCategory = "single-object" | "multiple-objects" | "camera-motion" | "human-motion";
export const CATEGORIES: MotionCategory[] = ["single-object", "multiple-objects", "camera-motion", "human-motion"];

export interface BenchClip {
  name: string;
  category: MotionCategory;
  /** A motion family the pretraining world never renders (gpu-runner/model/fymnet/world/ood_motions.py). */
  ood: boolean;
  family: string;
  caption: string;
  newPrompts: string[];
  clip: Clip;
  truth: {
    /** Per sprite, its centre per frame (world pixels). */
    paths: [number, number][][];
    /** Per frame (dx, dy, zoom). */
    camera: [number, number, number][];
    /** Ground-truth point tracks in pixels: object points, the figure's joints, background points under the camera. */
    tracks: [number, number][][];
    joints?: number[][];
  };
}

/** The MotionBench v4 cases bundled with the artifacts (written by gpu-runner/model/fymnet/evaluation/motionbench.py). */
export function loadMotionBench(dir = join(DEFAULT_ARTIFACTS, "motionbench")): BenchClip[] {
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as {
    clips: {
      name: string;
      category: MotionCategory;
      ood: boolean;
      family: string;
      file: string;
      shape: number[];
      caption: string;
      new_prompts: string[];
      truth: BenchClip["truth"];
    }[];
  };
  return index.clips.map((c) => {
    const [frames, size] = c.shape as [number, number];
    const rgb = new Uint8Array(gunzipSync(readFileSync(join(dir, c.file))));
    return {
      name: c.name,
      category: c.category,
      ood: c.ood,
      family: c.family,
      caption: c.caption,
      newPrompts: c.new_prompts,
      truth: c.truth,
      clip: clipFromRgb(rgb, frames, size),
    };
  });
}
