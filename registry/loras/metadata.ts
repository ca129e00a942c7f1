import { LoraFileMetadata } from "../../sdk/schema/index.ts";
import type { SafetensorsHeader } from "../../sdk/safetensors/header.ts";
import { RegistryError } from "../http/errors.ts";
import { loraTensorName, type BaseModelSpec } from "../base-model/spec.ts";

/**
 * Reads the motion-LoRA facts from a validated safetensors header and refuses a file the runner
 * could not use with `spec`: the `__metadata__` block must decode and name this base model, and
 * every tensor must be one the runner loads (a name it knows, F32, the model's inner dimension,
 * the declared rank, A and B in pairs). Values are checked separately (`checkFinite`).
 */
export function loraFacts(header: SafetensorsHeader, spec: BaseModelSpec) {
  const parsed = LoraFileMetadata.safeParse(header.metadata);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join(".") || "__metadata__";
    const message = issue.code === "invalid_type" && issue.input === undefined ? "is missing" : issue.message;
    throw new RegistryError("invalid_lora_metadata", `__metadata__ key '${key}' ${message}`, {
      issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  const meta = parsed.data;
  if (meta.base_model_id !== spec.id || meta.base_model_sha256 !== spec.sha256) {
    throw new RegistryError(
      "base_model_mismatch",
      `this LoRA was tuned on base model ${meta.base_model_id} (sha256 ${meta.base_model_sha256.slice(0, 12)}…), but this registry serves ` +
        `${spec.id} (sha256 ${spec.sha256.slice(0, 12)}…); re-tune it on ${spec.id}`,
    );
  }
  if (meta.rank > spec.maxRank) throw new RegistryError("invalid_lora_metadata", `rank ${meta.rank} exceeds ${spec.id}'s LoRA rank ${spec.maxRank}`);
  if (meta.target_heads.length > spec.depth || meta.target_heads.some((heads) => heads.some((h) => h >= spec.heads))) {
    throw new RegistryError(
      "invalid_lora_metadata",
      `__metadata__ key 'target_heads' must list, for at most ${spec.depth} blocks, head indices below ${spec.heads}`,
    );
  }
  if (header.tensors.length === 0) throw new RegistryError("invalid_lora_tensors", "the file holds no tensors");

  const known = new Map<string, { ab: "A" | "B"; pair: string }>();
  for (let block = 0; block < spec.depth; block++) {
    for (const proj of spec.projections) {
      known.set(loraTensorName(block, proj, "A"), { ab: "A", pair: loraTensorName(block, proj, "B") });
      known.set(loraTensorName(block, proj, "B"), { ab: "B", pair: loraTensorName(block, proj, "A") });
    }
  }
  const names = new Set(header.tensors.map((t) => t.name));
  for (const t of header.tensors) {
    const role = known.get(t.name);
    if (!role) {
      throw new RegistryError(
        "invalid_lora_tensors",
        `tensor '${t.name}' is not a LoRA tensor of ${spec.id}; names are ${loraTensorName(0, spec.projections[0]!, "A")} for blocks 0–${spec.depth - 1} and projections ${spec.projections.join(", ")}, A and B`,
      );
    }
    const want = role.ab === "A" ? [meta.rank, spec.dim] : [spec.dim, meta.rank];
    if (t.dtype !== "F32" || t.shape.length !== 2 || t.shape[0] !== want[0] || t.shape[1] !== want[1]) {
      throw new RegistryError(
        "invalid_lora_tensors",
        `tensor '${t.name}' is ${t.dtype} [${t.shape.join(", ")}]; with rank ${meta.rank} on ${spec.id} it must be F32 [${want.join(", ")}]`,
      );
    }
    if (!names.has(role.pair)) throw new RegistryError("invalid_lora_tensors", `tensor '${t.name}' has no partner '${role.pair}'; LoRA A and B come in pairs`);
  }
  return meta;
}

/**
 * Refuses NaN and ±Infinity weights (a generation with them returns a black clip). Reads only the
 * data buffer of tensors `loraFacts` accepted, so the bytes read are bounded by the model's size,
 * and reads it in windows of `chunkBytes`, so memory stays bounded too (a Worker has 128 MB) while
 * a small LoRA costs one read (each is a subrequest on Workers).
 */
export async function checkFinite(
  read: (start: number, end: number) => Promise<Uint8Array>,
  header: SafetensorsHeader,
  chunkBytes = 4 * 1024 * 1024,
): Promise<void> {
  const end = header.tensors.reduce((m, t) => Math.max(m, t.end), 0);
  // F32 elements never straddle a window: tensors start on 4-byte offsets and windows are multiples of 4.
  const step = Math.max(4, chunkBytes - (chunkBytes % 4));
  for (let from = 0; from < end; from += step) {
    const to = Math.min(end, from + step);
    const data = await read(header.dataStart + from, header.dataStart + to);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (const t of header.tensors) {
      const lo = Math.max(t.begin, from);
      const hi = Math.min(t.end, to);
      for (let at = lo; at < hi; at += 4) {
        const v = view.getFloat32(at - from, true);
        if (!Number.isFinite(v))
          throw new RegistryError(
            "invalid_lora_tensors",
            `tensor '${t.name}' holds ${v} at element ${(at - t.begin) / 4}; LoRA weights must be finite numbers`,
          );
      }
    }
  }
}
