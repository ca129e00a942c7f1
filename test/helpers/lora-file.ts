import { readFileSync } from "node:fs";
import { encodeSafetensors, type TensorData } from "../../sdk/safetensors/encode.ts";

/** The bundled base model (gpu-runner/artifacts/manifest.json): the one the registry accepts LoRAs for. */
const MANIFEST = JSON.parse(readFileSync(new URL("../../gpu-runner/artifacts/manifest.json", import.meta.url), "utf8")) as {
  model: { id: string; sha256: string; config: { dim: number; depth: number; lora_rank: number } };
};
export const BASE_ID = MANIFEST.model.id;
export const BASE_SHA = MANIFEST.model.sha256;
export const DIM = MANIFEST.model.config.dim;

/** A LoRA tensor name as the runner writes them. */
export const tensorName = (block: number, proj: string, ab: "A" | "B") => `base_model.model.blocks.${block}.attn.${proj}.lora_${ab}.weight`;

/** An F32 tensor of `shape` filled with `value`. */
export function f32(name: string, shape: number[], value = 0.5): TensorData {
  return { name, dtype: "F32", shape, data: new Uint8Array(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value).buffer) };
}

/** A small, valid motion-LoRA safetensors file for the bundled model (rank 2, the q projection of block 0). */
export function loraFile(overrides: Record<string, string | undefined> = {}, rank = 2, tensors?: TensorData[]): Uint8Array {
  const meta: Record<string, string> = {
    format: "pt",
    motion_lora_format: "1",
    base_model_id: BASE_ID,
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
  return encodeSafetensors(tensors ?? [f32(tensorName(0, "q", "A"), [rank, DIM]), f32(tensorName(0, "q", "B"), [DIM, rank])], meta);
}

export { sha256Hex as sha256 } from "../../registry/ids.ts";

/** A tiny valid GIF (1×1) for previews and reference clips. */
export const GIF = Uint8Array.from(atob("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="), (ch) => ch.charCodeAt(0));
