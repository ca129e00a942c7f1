import { encodeSafetensors, type TensorData } from "../../sdk/safetensors/encode.ts";
import { parseSafetensors, SafetensorsError, type SafetensorsHeader } from "../../sdk/safetensors/header.ts";
import { LoraFileMetadata, loraTensorName } from "../../sdk/schema/index.ts";
import type { BaseModel, ModelConfig } from "../engine/base-model.ts";
import { RunnerError } from "../core/errors.ts";
import type { HeadSet } from "./head-masks.ts";
import { offsets, PROJECTIONS, zeroLora, type LoraWeights } from "./tensors.ts";

export interface LoraFileInfo {
  stage: "spatial" | "temporal";
  heads: HeadSet;
  /** Anything else worth keeping with the file: tuning config, head scores, seeds, timings. */
  tuning: Record<string, unknown>;
  extra?: Record<string, string>;
}

/** The LoRA file is unreadable or made for another base model: final, the input must change. */
export class LoraFileError extends RunnerError {
  override name = "LoraFileError";
  declare readonly code: "invalid_lora_file" | "base_model_mismatch";
  constructor(code: LoraFileError["code"], message: string) {
    super(code, message, true);
  }
}

/** A LoRA as safetensors with peft-style names (loads with peft) and the motion-LoRA metadata block. */
export function encodeLora(cfg: ModelConfig, lora: LoraWeights, base: BaseModel, info: LoraFileInfo): Uint8Array {
  const r = lora.rank;
  const R = cfg.lora_rank;
  const d = cfg.dim;
  const tensors: TensorData[] = [];
  for (let blk = 0; blk < cfg.depth; blk++) {
    PROJECTIONS.forEach((proj, p) => {
      const { a, b } = offsets(cfg, blk, p);
      const A = lora.A.slice(a, a + r * d); // first r rows of (R, d)
      const B = new Float32Array(d * r); // first r columns of (d, R)
      for (let row = 0; row < d; row++) for (let k = 0; k < r; k++) B[row * r + k] = lora.B[b + row * R + k]!;
      tensors.push({ name: loraTensorName(blk, proj, "A"), dtype: "F32", shape: [r, d], data: new Uint8Array(A.buffer) });
      tensors.push({ name: loraTensorName(blk, proj, "B"), dtype: "F32", shape: [d, r], data: new Uint8Array(B.buffer) });
    });
  }
  const metadata: Record<string, string> = {
    format: "pt",
    motion_lora_format: "1",
    base_model_id: base.id,
    base_model_sha256: base.sha256,
    rank: String(r),
    alpha: String(lora.alpha),
    stage: info.stage,
    target_heads: JSON.stringify(info.heads),
    tuning_config: JSON.stringify(info.tuning),
    ...info.extra,
  };
  return encodeSafetensors(tensors, metadata);
}

/** Reads a LoRA file for this model; refuses one made for another base model (by sha256). */
export function decodeLora(cfg: ModelConfig, bytes: Uint8Array, base: BaseModel) {
  let header: SafetensorsHeader;
  try {
    header = parseSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new LoraFileError("invalid_lora_file", `not a valid safetensors file: ${e.message}`);
    throw e;
  }
  const meta = LoraFileMetadata.safeParse(header.metadata);
  if (!meta.success) {
    const i = meta.error.issues[0]!;
    throw new LoraFileError("invalid_lora_file", `__metadata__ '${i.path.join(".")}' ${i.message}`);
  }
  const m = meta.data;
  if (m.base_model_sha256 !== base.sha256) {
    throw new LoraFileError(
      "base_model_mismatch",
      `this LoRA was tuned on base model ${m.base_model_id} (sha256 ${m.base_model_sha256.slice(0, 12)}…), ` +
        `but the loaded model is ${base.id} (sha256 ${base.sha256.slice(0, 12)}…); re-tune it on this model`,
    );
  }
  if (m.rank > cfg.lora_rank) throw new LoraFileError("invalid_lora_file", `rank ${m.rank} exceeds the model's LoRA rank ${cfg.lora_rank}`);
  const lora = zeroLora(cfg, m.rank, m.alpha);
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  const R = cfg.lora_rank;
  const d = cfg.dim;
  for (let blk = 0; blk < cfg.depth; blk++) {
    PROJECTIONS.forEach((proj, p) => {
      const { a, b } = offsets(cfg, blk, p);
      const ta = byName.get(loraTensorName(blk, proj, "A"));
      const tb = byName.get(loraTensorName(blk, proj, "B"));
      if (!ta || !tb) return; // absent projections are zero, as in peft
      if (ta.dtype !== "F32" || tb.dtype !== "F32" || ta.shape.join() !== `${m.rank},${d}` || tb.shape.join() !== `${d},${m.rank}`) {
        throw new LoraFileError("invalid_lora_file", `${ta.name}/${tb.name} must be F32 of shapes [${m.rank}, ${d}] and [${d}, ${m.rank}]`);
      }
      const view = (t: typeof ta) => new Float32Array(bytes.slice(header.dataStart + t.begin, header.dataStart + t.end).buffer);
      lora.A.set(view(ta), a);
      const B = view(tb);
      for (let row = 0; row < d; row++) for (let k = 0; k < m.rank; k++) lora.B[b + row * R + k] = B[row * m.rank + k]!;
    });
  }
  return { lora, metadata: m, raw: header.metadata };
}
