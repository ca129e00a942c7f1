import type { Lora, LoraVersion, MotionCategory, TransferScore, Visibility } from "../../sdk/schema/index.ts";
import { getTableColumns } from "drizzle-orm";
import { type loraVersions, loras } from "../db/schema.ts";
import { iso } from "../ids.ts";

// The rendered README (up to 1 MB) is read only by the gallery's LoRA page, not with every row.
const { readmeHtml: _html, readmeRenderer: _renderer, ...catalogColumns } = getTableColumns(loras);
/** The columns of a LoRA row that the API and the read cache hold. */
export const loraColumns = catalogColumns;
export type LoraRow = Omit<typeof loras.$inferSelect, "readmeHtml" | "readmeRenderer">;
export type VersionRow = typeof loraVersions.$inferSelect;

/** The API shape of a LoRA row; the README (up to 50 KB) only when one LoRA is asked for. */
export const toLora = (r: Omit<LoraRow, "readme"> & { readme?: string }, withReadme = false): Lora => ({
  id: r.id,
  owner: r.owner,
  name: r.name,
  title: r.title,
  description: r.description,
  ...(withReadme ? { readme: r.readme ?? "" } : {}),
  category: r.category as MotionCategory,
  tags: r.tags,
  license: r.license,
  visibility: r.visibility as Visibility,
  downloads: r.downloads,
  latest_version: r.latestVersion,
  created_at: iso(r.createdAt),
  updated_at: iso(r.updatedAt),
});

/** A version's transfer score from its two columns: null when none of its samples was scored. */
export const transferScore = (fidelity: number | null, n: number): TransferScore | null => (fidelity === null ? null : { motion_fidelity: fidelity, n });

/** The API shape of a version row; the metadata block is left out of listings unless asked for. */
export const toVersion = (v: VersionRow, l: Pick<LoraRow, "owner" | "name">, withMetadata = true): LoraVersion => ({
  id: v.id,
  lora_id: v.loraId,
  owner: l.owner,
  name: l.name,
  version: v.version,
  file_sha256: v.fileSha256,
  file_size: v.fileSize,
  preview_sha256: v.previewSha256,
  reference_video_sha256: v.referenceVideoSha256,
  base_model_id: v.baseModelId,
  base_model_sha256: v.baseModelSha256,
  rank: v.rank,
  alpha: v.alpha,
  stage: v.stage as LoraVersion["stage"],
  target_heads: v.targetHeads,
  tuning_config: v.tuningConfig,
  ...(withMetadata ? { metadata: v.metadata } : {}),
  notes: v.notes,
  samples: v.samples.map((x) => ({ ...x, motion_fidelity: x.motion_fidelity ?? null })),
  transfer: transferScore(v.transferFidelity, v.transferSamples),
  downloads: v.downloads,
  job_id: v.jobId,
  created_at: iso(v.createdAt),
});
