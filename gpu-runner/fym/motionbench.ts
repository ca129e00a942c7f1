import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_ARTIFACTS } from "../engine/manifest.ts";
import { clipFromRgb, type Clip } from "./clip.ts";

export interface BenchClip {
  name: string;
  category: "single-object" | "multiple-objects" | "camera-motion" | "human-motion";
  caption: string;
  newPrompts: string[];
  clip: Clip;
  truth: { paths: [number, number][][]; camera: [number, number, number][] };
}

/** The MotionBench reference clips bundled with the artifacts (gpu-runner/model/motionbench.py). */
export function loadMotionBench(dir = join(DEFAULT_ARTIFACTS, "motionbench")): BenchClip[] {
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as {
    clips: { name: string; category: BenchClip["category"]; file: string; shape: number[]; caption: string; new_prompts: string[]; truth: BenchClip["truth"] }[];
  };
  return index.clips.map((c) => {
    const [frames, size] = c.shape as [number, number];
    return { name: c.name, category: c.category, caption: c.caption, newPrompts: c.new_prompts, truth: c.truth, clip: clipFromRgb(new Uint8Array(readFileSync(join(dir, c.file))), frames, size) };
  });
}
