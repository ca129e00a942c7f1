// A tune's transfer samples: the new motion LoRA on a few new prompts, each scored against the
// reference clip by MotionBench's motion fidelity, so a LoRA's page shows where its motion carries.
import { promptWords } from "../../sdk/prompt/normalize.ts";
import { encodeGif } from "../../sdk/video/gif.ts";
import { type Clip, clipToFrames } from "../core/clip.ts";
import type { GenerateOptions } from "../fym/sampler.ts";
import type { LoraWeights } from "../lora/tensors.ts";
import { motionFidelity } from "../evaluation/metrics/fidelity.ts";
import { type Category, tracksFor } from "../evaluation/metrics/tracker.ts";

/**
 * Samples a tune makes unless the runner is told otherwise (`--samples`): three prompts of different
 * colours, shapes, sizes and backgrounds. Each costs one 20-step generation and ~0.5 s of scoring
 * (RESULTS-transfer-samples-onnx-cpu.md: 20.7 s a sample on a shared 2-core machine at load 11;
 * 4.5 s on a quiet one, RESULTS-stack-onnx-cpu.md), small beside a 13-minute CPU tune.
 */
export const DEFAULT_SAMPLES = 3;

export interface TransferSample {
  prompt: string;
  gif: Uint8Array;
  /** Motion fidelity of the sample to the reference clip, in [−1, 1]. */
  motionFidelity: number;
}

/**
 * The category a caption reads as, for a tune that does not name its LoRA's (a job without `create`):
 * which tracks motion fidelity compares. A camera move is only seen when the caption says "camera".
 */
export function captionCategory(caption: string): Category {
  const words = promptWords(caption);
  if (words.includes("camera")) return "camera-motion";
  if (words.includes("person")) return "human-motion";
  return words.includes("and") ? "multiple-objects" : "single-object";
}

export interface SampleOptions {
  /** The reference clip: what each sample's motion is scored against, by the tracks of `category`. */
  reference: Clip;
  category: Category;
  lora: { lora: LoraWeights; weight: number; until: number };
  prompts: string[];
  steps: number;
  signal: AbortSignal;
  /** Called after each sampling step with the steps done of all samples together. */
  onStep: (done: number, total: number) => void;
}

/**
 * Generates one clip per prompt with the LoRA (seeds 0, 1, …; `sampleMany` batches them where the engine can) and
 * scores each by motion fidelity against the reference's tracks. The reference has no ground truth
 * (MotionBench's has), so both sides' tracks come from the same tracker.
 */
export async function transferSamples(sampleMany: (list: GenerateOptions[]) => Promise<Clip>[], o: SampleOptions): Promise<TransferSample[]> {
  const total = o.prompts.length * o.steps;
  let done = 0;
  // Step 0 is a sample's start, not a step done.
  const onStep = (step: number) => step > 0 && o.onStep(++done, total);
  const clips = await Promise.all(sampleMany(o.prompts.map((prompt, seed) => ({ prompt, loras: [o.lora], steps: o.steps, seed, signal: o.signal, onStep }))));
  const reference = tracksFor(o.reference, o.category);
  return clips.map((clip, i) => ({
    prompt: o.prompts[i]!,
    gif: encodeGif(clipToFrames(clip), { scale: 4 }),
    // Rounded: three decimals are what the page shows, and a cosine's float error may step past ±1.
    motionFidelity: Math.max(-1, Math.min(1, Math.round(motionFidelity(tracksFor(clip, o.category), reference) * 1000) / 1000)),
  }));
}
