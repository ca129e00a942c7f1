import * as z from "zod";
import { Sha256, Timestamp } from "./common.ts";

/** The kind decides the size limit and the checks an upload gets (a `lora` must be valid safetensors). */
export const BlobKind = z.enum(["lora", "video", "preview"]);
export type BlobKind = z.infer<typeof BlobKind>;

export const BlobUploadQuery = z.strictObject({
  kind: BlobKind,
  size: z.coerce.number().int().min(0).optional().describe("declared size in bytes, when Content-Length is absent"),
});

export const BlobInfo = z.object({
  sha256: Sha256,
  size: z.number().int(),
  kind: BlobKind,
  content_type: z.string(),
  created_at: Timestamp,
  // The registry never sends it (no answer tells whether bytes were stored); the SDK's upload sets it.
  created: z.boolean().describe("false when the SDK sent no bytes because you could already read this blob as this kind").optional(),
});
export type BlobInfo = z.infer<typeof BlobInfo>;
