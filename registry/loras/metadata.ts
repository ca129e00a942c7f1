import { LoraFileMetadata } from "../../sdk/schema/index.ts";
import type { SafetensorsHeader } from "../../sdk/safetensors/header.ts";
import { ApiError } from "../http/errors.ts";

/**
 * Reads the motion-LoRA facts from a validated safetensors header: the `__metadata__` block
 * must decode, and every peft-style `lora_A`/`lora_B` tensor must agree with the declared rank.
 */
export function loraFacts(header: SafetensorsHeader) {
  const parsed = LoraFileMetadata.safeParse(header.metadata);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join(".") || "__metadata__";
    const message = issue.code === "invalid_type" && issue.input === undefined ? "is missing" : issue.message;
    throw new ApiError("invalid_lora_metadata", `__metadata__ key '${key}' ${message}`, {
      issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  const meta = parsed.data;
  if (header.tensors.length === 0) throw new ApiError("invalid_lora_metadata", "the file holds no tensors");
  for (const t of header.tensors) {
    const isA = /\.lora_A(\.[^.]+)?\.weight$/.test(t.name);
    const isB = /\.lora_B(\.[^.]+)?\.weight$/.test(t.name);
    if (!isA && !isB) {
      throw new ApiError("invalid_lora_metadata", `tensor '${t.name}' is not a peft-style LoRA tensor (…lora_A.weight or …lora_B.weight)`);
    }
    const rankDim = isA ? t.shape[0] : t.shape[1];
    if (t.shape.length !== 2 || rankDim !== meta.rank) {
      throw new ApiError("invalid_lora_metadata", `tensor '${t.name}' has shape [${t.shape}], which disagrees with rank ${meta.rank}`);
    }
  }
  return meta;
}
