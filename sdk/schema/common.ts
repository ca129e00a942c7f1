import * as z from "zod";

/** A lowercase hex SHA-256 digest: the address of every blob. */
export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex characters (a SHA-256 digest)");
export type Sha256 = z.infer<typeof Sha256>;

/**
 * Owner and LoRA names: DNS-label-like, so they are safe in URLs, file names and shells.
 * Rejecting dots and slashes outright is what keeps `../` out of every path built from them.
 */
export const Slug = z
  .string()
  .min(2, "must be at least 2 characters")
  .max(64, "must be at most 64 characters")
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "must be lowercase letters, digits and single hyphens inside (e.g. 'figure-eight')")
  .refine((s) => !s.includes("--"), "must not contain '--'");
export type Slug = z.infer<typeof Slug>;

/** Free text shown to people: any Unicode except control characters. */
export const Text = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point of this check is to refuse control characters in free text
    .refine((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s), "must not contain control characters");

export const Timestamp = z.string().describe("ISO 8601 date-time in UTC");

export const MotionCategory = z.enum(["single-object", "multiple-objects", "camera-motion", "human-motion"]);
export type MotionCategory = z.infer<typeof MotionCategory>;

export const Visibility = z.enum(["public", "private"]);
export type Visibility = z.infer<typeof Visibility>;

/** Cursor pagination query shared by every list endpoint. */
export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

/** Every list response: the items and the cursor of the next page (null at the end). */
export const Page = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), next_cursor: z.string().nullable() });
export type Page<T> = { data: T[]; next_cursor: string | null };

/** Stable machine-readable error codes; clients switch on these, never on messages. */
export const ErrorCode = z.enum([
  "invalid_json",
  "validation_failed",
  "unauthenticated",
  "invalid_api_key",
  "api_key_revoked",
  "insufficient_scope",
  "forbidden",
  "tune_target_not_owned",
  "not_found",
  "method_not_allowed",
  "conflict",
  "slug_taken",
  "idempotency_conflict",
  "lease_lost",
  "job_not_active",
  "payload_too_large",
  "length_required",
  "sha256_mismatch",
  "size_mismatch",
  "invalid_safetensors",
  "invalid_lora_metadata",
  "invalid_video",
  "blob_missing",
  "invalid_lora_tensors",
  "base_model_mismatch",
  "unknown_word",
  "prompt_does_not_fit",
  "unsupported_option",
  "too_many_loras",
  "quota_exceeded",
  "range_not_satisfiable",
  "rate_limited",
  "too_many_streams",
  "queue_full",
  "client_closed_request",
  "internal_error",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The one error shape every non-2xx response carries. */
export const ErrorBody = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
    details: z.unknown().optional(),
    requestId: z.string(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
