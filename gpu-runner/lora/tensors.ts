import type { ModelConfig } from "../engine/base-model.ts";

export const PROJECTIONS = ["q", "k", "v", "o"] as const;

/**
 * One LoRA as the graphs take it: A (depth, 4, rank, dim) and B (depth, 4, dim, rank), projections
 * in the order q, k, v, o. Smaller ranks are zero-padded to the graphs' rank, which is free.
 */
export interface LoraWeights {
  rank: number;
  alpha: number;
  A: Float32Array;
  B: Float32Array;
}

export const loraSizes = (cfg: ModelConfig) => ({
  a: cfg.depth * 4 * cfg.lora_rank * cfg.dim,
  b: cfg.depth * 4 * cfg.dim * cfg.lora_rank,
});

export function zeroLora(cfg: ModelConfig, rank = cfg.lora_rank, alpha = rank): LoraWeights {
  const { a, b } = loraSizes(cfg);
  return { rank, alpha, A: new Float32Array(a), B: new Float32Array(b) };
}

/** peft's scaling, alpha / rank, times the user's weight: what the graph's slot scale input gets. */
export const slotScale = (l: LoraWeights, weight = 1) => (weight * l.alpha) / l.rank;

/** Offsets of block i, projection p in A and B. */
export function offsets(cfg: ModelConfig, block: number, proj: number) {
  const per = cfg.lora_rank * cfg.dim;
  const at = (block * 4 + proj) * per;
  return { a: at, b: at };
}
