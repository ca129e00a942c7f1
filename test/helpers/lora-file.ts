import { encodeSafetensors, type TensorData } from "../../sdk/safetensors/encode.ts";

export const BASE_SHA = "a".repeat(64);

/** A small, valid motion-LoRA safetensors file (rank 2, two projections of one block). */
export function loraFile(overrides: Record<string, string | undefined> = {}, rank = 2): Uint8Array {
  const meta: Record<string, string> = {
    format: "pt",
    motion_lora_format: "1",
    base_model_id: "fym-tiny-dit",
    base_model_sha256: BASE_SHA,
    rank: String(rank),
    alpha: String(rank),
    stage: "temporal",
    target_heads: JSON.stringify([[1, 3], []]),
    tuning_config: JSON.stringify({ steps: 10, sparse_frames: 4 }),
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete meta[k];
    else meta[k] = v;
  }
  const t = (name: string, shape: number[]): TensorData => ({
    name,
    dtype: "F32",
    shape,
    data: new Uint8Array(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5).buffer),
  });
  return encodeSafetensors(
    [
      t("base_model.model.blocks.0.attn.q.lora_A.weight", [rank, 8]),
      t("base_model.model.blocks.0.attn.q.lora_B.weight", [8, rank]),
    ],
    meta,
  );
}

export { sha256Hex as sha256 } from "../../registry/ids.ts";

/** A tiny valid GIF (1×1) for previews and reference clips. */
export const GIF = Uint8Array.from(
  atob("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="),
  (ch) => ch.charCodeAt(0),
);
