import * as z from "zod";
import { Sha256 } from "./common.ts";
import { LoraStage } from "./loras.ts";

/** A LoRA tensor's name in the file: peft's, so peft loads our LoRAs and we load its (A: [rank, dim], B: [dim, rank]). */
export const loraTensorName = (block: number, projection: string, ab: "A" | "B") => `base_model.model.blocks.${block}.attn.${projection}.lora_${ab}.weight`;

/**
 * The `__metadata__` block of a motion-LoRA safetensors file (ARCHITECTURE decision 8).
 * safetensors metadata values are strings, so numbers and structures are encoded in them;
 * this schema decodes and checks them. Writers (the runner) and readers (the registry) share it.
 */
export const LoraFileMetadata = z.object({
  format: z.literal("pt").optional(),
  motion_lora_format: z.literal("1", { error: 'must be "1" (the only motion-LoRA file format so far)' }),
  base_model_id: z.string().min(1).max(128),
  base_model_sha256: Sha256,
  rank: z
    .string()
    .regex(/^[1-9][0-9]{0,3}$/, "must be a positive integer")
    .transform(Number),
  alpha: z
    .string()
    .regex(/^[0-9]+(\.[0-9]+)?$/, "must be a non-negative number")
    .transform(Number),
  stage: LoraStage,
  target_heads: jsonString(z.array(z.array(z.number().int().min(0)))),
  tuning_config: jsonString(z.record(z.string(), z.unknown())).optional(),
});
export type LoraFileMetadata = z.output<typeof LoraFileMetadata>;

function jsonString<T extends z.ZodType>(inner: T) {
  return z.string().transform((s, ctx): z.output<T> => {
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch {
      ctx.addIssue({ code: "custom", message: "must be a JSON string" });
      return z.NEVER;
    }
    const parsed = inner.safeParse(value);
    if (!parsed.success) {
      ctx.addIssue({ code: "custom", message: `has the wrong shape: ${parsed.error.issues[0]?.message}` });
      return z.NEVER;
    }
    return parsed.data;
  });
}
