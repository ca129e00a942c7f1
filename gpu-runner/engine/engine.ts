import type { Clip } from "../core/clip.ts";
import type { BaseModel, ModelConfig } from "./base-model.ts";

/** LoRA slot tensors as the graphs take them (slot-major). */
export interface Slots {
  A: Float32Array;
  B: Float32Array;
  scale: Float32Array;
}

export type TrainGraph = "spatial" | "sparse" | "dense";

export interface TrainStepInput {
  x0: Float32Array;
  noise: Float32Array;
  t: number;
  text: Float32Array;
  textMask: Float32Array;
  framePos: Float32Array;
  frozen: { A: Float32Array; B: Float32Array; scale: number };
  lora: { A: Float32Array; B: Float32Array; scale: number };
  lossWeights: [number, number];
}

export interface TrainStepOutput {
  loss: number;
  terms: [number, number];
  gradA: Float32Array;
  gradB: Float32Array;
}

/** One LoRA to train: its reference clip, caption embedding, frozen LoRA, initial weights and masks. */
export interface TrainerJob {
  clip: Clip;
  text: Float32Array;
  textMask: Float32Array;
  frozen: { A: Float32Array; B: Float32Array; scale: number };
  init: { A: Float32Array; B: Float32Array };
  masks: { A: Uint8Array; B: Uint8Array };
  scale: number;
  lr: number;
  warmupSteps: number;
  lossWeights: [number, number];
  /**
   * Samples a step trains this LoRA on (default 1): its loss and gradient are their mean. Only
   * engines that batch (`createTrainer`) take more than 1.
   */
  samples?: number;
  /**
   * An appearance bank (fym/augment.ts): `clip` then holds V variants of the reference one after
   * another (V·frames frames; a step's frame indices pick the variant) and `texts` their V captions,
   * the original first. Absent: one clip, captioned by `text`.
   */
  texts?: { text: Float32Array; mask: Float32Array }[];
}

/** AdamW settings every LoRA of a trainer shares (gpu-runner/lora/adamw.ts). */
export interface SharedOptim {
  weightDecay: number;
  betas: [number, number];
  eps: number;
  clipNorm: number;
}

/** One step of one LoRA: which frames (and their RoPE positions), the timestep, and the seed of its noise. */
export interface TrainerStep {
  frames: number[];
  framePos: Float32Array;
  t: number;
  seed: number;
  /** On a bank: which variant's caption the step trains with (0, the original, when absent). */
  variant?: number;
  /** The frozen LoRA's weight this step (1 when absent; 0 on a recoloured variant the spatial LoRA never saw). */
  frozenGain?: number;
}

/**
 * N LoRAs trained together, one optimizer step each per call. Every LoRA's result depends only on
 * its own job and steps, never on which others share the trainer.
 */
export interface Trainer {
  readonly size: number;
  /**
   * One optimizer step of every LoRA: `steps` holds each job's `samples` (1 unless set) samples, job
   * after job; the result is one entry per job, its loss the mean over its samples.
   */
  step(steps: TrainerStep[]): Promise<{ loss: number; terms: [number, number] }[]>;
  weights(): Promise<{ A: Float32Array; B: Float32Array }[]>;
  close(): Promise<void>;
}

/** Several generations' denoiser calls at one step: each brings its (cond, uncond) pair and LoRA slots. */
export interface DenoiseItem {
  x: Float32Array;
  t: Float32Array;
  text: Float32Array;
  mask: Float32Array;
  slots: Slots;
}

/**
 * What the FYM pipeline needs from the network: tensors in, tensors out. The ONNX engine serves
 * every install; a second engine (PyTorch on CUDA) can serve GPUs behind the same interface.
 */
export interface Engine {
  readonly name: string;
  readonly config: ModelConfig;
  readonly base: BaseModel;
  /** Frame count of the sparse training graph. */
  readonly sparseFrames: number;
  /** Readies what jobs need that would otherwise block the runner's thread inside its first job (ONNX: every graph's session). */
  prepare?(): Promise<void>;
  encodeText(prompt: string): Promise<{ text: Float32Array; mask: Float32Array }>;
  /** Velocity for 2 clips (conditional and unconditional). */
  denoise(x: Float32Array, t: Float32Array, text: Float32Array, mask: Float32Array, framePos: Float32Array, slots: Slots): Promise<Float32Array>;
  /** Per block and head: cosine similarity with the spatial and temporal pseudo maps, (depth, heads, 2). */
  probe(x: Float32Array, t: number, text: Float32Array, mask: Float32Array, framePos: Float32Array): Promise<Float32Array>;
  trainStep(graph: TrainGraph, input: TrainStepInput): Promise<TrainStepOutput>;
  /** Engines that batch keep N LoRAs and their optimizer state on the device (else fym/trainer.ts loops over trainStep). */
  createTrainer?(graph: TrainGraph, frames: number, jobs: TrainerJob[], optim: SharedOptim): Promise<Trainer>;
  /** Engines that batch run several generations' denoiser calls as one (else one call each). */
  denoiseMany?(items: DenoiseItem[], framePos: Float32Array): Promise<Float32Array[]>;
}
