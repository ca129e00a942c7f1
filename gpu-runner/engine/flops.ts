import type { ModelConfig } from "./base-model.ts";

/**
 * Multiply-accumulate count of one denoiser forward pass (matrix products only; elementwise work is
 * a few percent at this size), for `frames` frames and `batch` clips with `slots` LoRA slots.
 */
export function forwardMacs(cfg: ModelConfig, frames: number, batch: number, slots = 2): number {
  const s = frames * (cfg.size / cfg.patch) ** 2;
  const d = cfg.dim;
  const l = cfg.max_tokens;
  const perBlock =
    4 * s * d * d + // q, k, v, o
    2 * s * s * d + // QKᵀ and AV
    2 * s * d * d +
    2 * l * cfg.text_dim * d +
    2 * s * l * d + // cross-attention
    2 * s * d * (cfg.mlp_ratio * d) + // MLP
    6 * d * d + // adaLN modulation (per clip)
    slots * 4 * 2 * s * d * cfg.lora_rank; // LoRA A and B for q, k, v, o
  const patch = 3 * cfg.patch * cfg.patch;
  return batch * (cfg.depth * perBlock + 2 * s * patch * d);
}

/** A LoRA training step: the forward pass plus gradients with respect to activations (about as many
 * MACs again); the base weights get no gradient, so their weight-gradient products are not done. */
export function trainStepMacs(cfg: ModelConfig, frames: number): number {
  return 2 * forwardMacs(cfg, frames, 1);
}
