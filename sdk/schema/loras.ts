import * as z from "zod";
import { MotionCategory, Sha256, Slug, Text, Timestamp, Visibility } from "./common.ts";

export const Tag = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} _-]*$/u, "tags are letters, digits, spaces, '_' and '-'");

/** A LoRA's README: Markdown, shown on its gallery page with any raw HTML escaped. */
const Readme = Text(50_000).describe("Markdown shown on the LoRA's gallery page (raw HTML is escaped, links are http(s) only)");

export const LoraCreate = z.strictObject({
  name: Slug,
  owner: Slug.optional().describe("defaults to the API key's owner; only admins may name another"),
  title: Text(120).min(1),
  description: Text(10_000).default(""),
  readme: Readme.default(""),
  category: MotionCategory,
  tags: z.array(Tag).max(20).default([]),
  license: Text(64).default("cc-by-4.0"),
  visibility: Visibility.default("public"),
});
export type LoraCreate = z.infer<typeof LoraCreate>;

export const LoraUpdate = z
  .strictObject({
    title: Text(120).min(1),
    description: Text(10_000),
    readme: Readme,
    category: MotionCategory,
    tags: z.array(Tag).max(20),
    license: Text(64),
    visibility: Visibility,
  })
  .partial()
  .refine((u) => Object.keys(u).length > 0, "name at least one field to change");
export type LoraUpdate = z.infer<typeof LoraUpdate>;

export const Lora = z.object({
  id: z.string(),
  owner: Slug,
  name: Slug,
  title: z.string(),
  description: z.string(),
  readme: z.string().optional().describe("the Markdown README; only when one LoRA is asked for, not in lists"),
  category: MotionCategory,
  tags: z.array(z.string()),
  license: z.string(),
  visibility: Visibility,
  downloads: z.number().int(),
  latest_version: z.number().int().nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Lora = z.infer<typeof Lora>;

export const LoraSort = z.enum(["newest", "downloads"]);

export const LoraListQuery = z.strictObject({
  q: Text(100).optional().describe("substring matched against name, title and tags"),
  category: MotionCategory.optional(),
  tag: Tag.optional().describe("only LoRAs carrying this tag (exact)"),
  base_model: z.string().max(128).optional().describe("only LoRAs with a version for this base model id"),
  owner: Slug.optional(),
  sort: LoraSort.default("newest"),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});
export type LoraListQuery = z.infer<typeof LoraListQuery>;

/** Version lists leave out each version's `__metadata__` block unless asked: it may be up to 64 KiB a version. */
export const VersionListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
  include: z.literal("metadata").optional().describe("'metadata' to include each version's __metadata__ block"),
});

/** The most samples a version holds. */
export const MAX_SAMPLES = 8;

/** A clip generated with a version for another prompt: what its motion does to new content. */
export const Sample = z.strictObject({
  prompt: Text(500).min(1),
  preview_sha256: Sha256.describe("the generated clip as a GIF or PNG, a blob of kind 'preview'"),
});
export type Sample = z.infer<typeof Sample>;

/**
 * Motion fidelity's scale in words, wherever a score is shown (the CLI, the gallery): a mean cosine of
 * frame-to-frame displacements, so it runs from −1 to 1 and a sample moving the other way scores below 0.
 */
export const FIDELITY_SCALE = "1: the same motion, 0: none, below 0: moves against the reference's motion (−1: the opposite)";

const MotionFidelity = z.number().min(-1).max(1).describe(`motion fidelity of the sample to the reference clip (MotionBench's metric; ${FIDELITY_SCALE})`);

/**
 * A sample a tune job's runner generated and scored: only a runner's result carries a measured score,
 * never a person's publish. Optional: a runner made before samples were scored sends none.
 */
export const ScoredSample = Sample.extend({ motion_fidelity: MotionFidelity.optional() });
export type ScoredSample = z.infer<typeof ScoredSample>;

/** A version's sample as the API shows it: its score when a runner measured one, null when a person published it. */
export const VersionSample = z.object({ ...Sample.shape, motion_fidelity: MotionFidelity.nullable() });
export type VersionSample = z.infer<typeof VersionSample>;

/** How well a version's motion carried to new content: the mean motion fidelity of its own scored samples. */
export const TransferScore = z
  .object({
    motion_fidelity: z.number().describe("the mean over the version's scored samples"),
    n: z.number().int().min(1).describe("how many samples it is the mean of"),
  })
  .describe("measured on this version's own samples (new prompts, one seed each), not a benchmark: null when none was scored");
export type TransferScore = z.infer<typeof TransferScore>;

/** What a version is published from: blobs already uploaded under these hashes. */
export const VersionCreate = z.strictObject({
  file_sha256: Sha256.describe("the safetensors LoRA file"),
  preview_sha256: Sha256.optional().describe("a GIF or PNG preview"),
  reference_video_sha256: Sha256.optional().describe("the clip the LoRA was tuned on"),
  samples: z.array(Sample).max(MAX_SAMPLES).default([]).describe("clips generated with this version for other prompts, shown on its gallery page"),
  notes: Text(2_000).default(""),
});
export type VersionCreate = z.infer<typeof VersionCreate>;

export const LoraStage = z.enum(["spatial", "temporal"]);

export const LoraVersion = z.object({
  id: z.string(),
  lora_id: z.string(),
  owner: Slug,
  name: Slug,
  version: z.number().int().min(1),
  file_sha256: Sha256,
  file_size: z.number().int(),
  preview_sha256: Sha256.nullable(),
  reference_video_sha256: Sha256.nullable(),
  base_model_id: z.string(),
  base_model_sha256: Sha256,
  rank: z.number().int(),
  alpha: z.number(),
  stage: LoraStage,
  target_heads: z.array(z.array(z.number().int())).describe("per block, the head indices the LoRA touches"),
  tuning_config: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.string()).optional().describe("the file's whole __metadata__ block (at most 64 KiB); in lists only with ?include=metadata"),
  notes: z.string(),
  samples: z.array(VersionSample),
  transfer: TransferScore.nullable(),
  downloads: z.number().int(),
  job_id: z.string().nullable().describe("the tune job that produced it, if any"),
  created_at: Timestamp,
});
export type LoraVersion = z.infer<typeof LoraVersion>;
