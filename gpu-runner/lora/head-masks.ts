import type { ModelConfig } from "../engine/base-model.ts";
import { offsets, type LoraWeights } from "./tensors.ts";

/** Per block, the head indices a LoRA may change. */
export type HeadSet = number[][];

/**
 * 1 where a LoRA element may be non-zero, 0 elsewhere. The output rows of q, k and v belong to
 * heads (rows h·hd … (h+1)·hd of B); the input columns of o do (columns of A). Zeroing B rows of
 * q/k/v and A columns of o outside the target heads keeps every other head's output exactly unchanged.
 */
export function headMasks(cfg: ModelConfig, heads: HeadSet): { A: Uint8Array; B: Uint8Array } {
  const hd = cfg.dim / cfg.heads;
  const r = cfg.lora_rank;
  const d = cfg.dim;
  const A = new Uint8Array(cfg.depth * 4 * r * d).fill(1);
  const B = new Uint8Array(cfg.depth * 4 * d * r).fill(1);
  for (let blk = 0; blk < cfg.depth; blk++) {
    const allowed = new Set(heads[blk] ?? []);
    for (let p = 0; p < 4; p++) {
      const { a, b } = offsets(cfg, blk, p);
      for (let h = 0; h < cfg.heads; h++) {
        if (allowed.has(h)) continue;
        if (p < 3) {
          // B is (dim, rank): zero the rows of head h.
          for (let row = h * hd; row < (h + 1) * hd; row++) B.fill(0, b + row * r, b + (row + 1) * r);
        } else {
          // A is (rank, dim): zero the columns of head h in every rank row.
          for (let k = 0; k < r; k++) A.fill(0, a + k * d + h * hd, a + k * d + (h + 1) * hd);
        }
      }
    }
  }
  return { A, B };
}

/** Zeroes whatever the masks forbid (after an init or an optimizer step). */
export function applyMasks(l: LoraWeights, masks: { A: Uint8Array; B: Uint8Array }): void {
  for (let i = 0; i < l.A.length; i++) if (!masks.A[i]) l.A[i] = 0;
  for (let i = 0; i < l.B.length; i++) if (!masks.B[i]) l.B[i] = 0;
}
