import type { ModelConfig } from "../engine/manifest.ts";
import type { BaseModel } from "../lora/file.ts";

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
  encodeText(prompt: string): Promise<{ text: Float32Array; mask: Float32Array }>;
  /** Velocity for 2 clips (conditional and unconditional). */
  denoise(x: Float32Array, t: Float32Array, text: Float32Array, mask: Float32Array, framePos: Float32Array, slots: Slots): Promise<Float32Array>;
  /** Per block and head: cosine similarity with the spatial and temporal pseudo maps, (depth, heads, 2). */
  probe(x: Float32Array, t: number, text: Float32Array, mask: Float32Array, framePos: Float32Array): Promise<Float32Array>;
  trainStep(graph: TrainGraph, input: TrainStepInput): Promise<TrainStepOutput>;
}
