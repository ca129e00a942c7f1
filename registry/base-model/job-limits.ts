import type { GenerateInput, TuneInput } from "../../sdk/schema/index.ts";
import { RegistryError } from "../http/errors.ts";
import type { BaseModelSpec } from "./spec.ts";

// What the runner would refuse after a claim, refused at job creation instead: the registry knows the
// model's limits (manifest.json), so no runner is claimed, and no GPU held, for a job that cannot run.

/** A tune's options against the model: rank within its LoRA slots, sparse frames its sparse graph takes. */
export function checkTuneLimits(input: TuneInput, spec: BaseModelSpec): void {
  const o = input.options;
  if (o.rank !== undefined && o.rank > spec.maxRank)
    throw new RegistryError("unsupported_option", `input.options.rank: this model's LoRA slots hold rank ≤ ${spec.maxRank}; got ${o.rank}`, {
      field: "input.options.rank",
      limit: spec.maxRank,
    });
  if (o.sparse_frames !== undefined && o.sparse_frames !== spec.sparseFrames)
    throw new RegistryError(
      "unsupported_option",
      `input.options.sparse_frames: this model's sparse training step takes ${spec.sparseFrames} frames; leave it out or set ${spec.sparseFrames}`,
      { field: "input.options.sparse_frames", limit: spec.sparseFrames },
    );
}

/** A generation's LoRAs against the model's slots. */
export function checkGenerateLimits(input: GenerateInput, spec: BaseModelSpec): void {
  if (input.loras.length > spec.loraSlots)
    throw new RegistryError(
      "too_many_loras",
      `input.loras: this model applies at most ${spec.loraSlots} LoRAs at once; got ${input.loras.length} (compose fewer, or merge them)`,
      { field: "input.loras", limit: spec.loraSlots },
    );
}
