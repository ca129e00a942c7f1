import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Times are integer milliseconds since the epoch; JSON columns hold text the app validated on the way in.

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    prefix: text("prefix").notNull(),
    hash: text("hash").notNull(),
    owner: text("owner").notNull(),
    name: text("name").notNull(),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    rateLimitPerMinute: integer("rate_limit_per_minute").notNull(),
    webhookSecret: text("webhook_secret").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash").on(t.hash), index("api_keys_owner").on(t.owner)],
);

export const loras = sqliteTable(
  "loras",
  {
    id: text("id").primaryKey(),
    owner: text("owner").notNull(),
    name: text("name").notNull(),
    title: text("title").notNull(),
    description: text("description").notNull(),
    // Markdown, shown on the gallery's LoRA page (rendered with raw HTML escaped).
    readme: text("readme").notNull().default(""),
    // The README as the gallery shows it, rendered when it is written (gallery/markdown.ts) by
    // renderer version `readme_renderer`; 0 (rows from before it was stored) renders on first view.
    readmeHtml: text("readme_html").notNull().default(""),
    readmeRenderer: integer("readme_renderer").notNull().default(0),
    category: text("category").notNull(),
    tags: text("tags", { mode: "json" }).$type<string[]>().notNull(),
    // Lower-cased "name title tag tag" so one instr() serves the text search.
    searchText: text("search_text").notNull(),
    license: text("license").notNull(),
    visibility: text("visibility").notNull(),
    downloads: integer("downloads").notNull().default(0),
    latestVersion: integer("latest_version"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deletedAt: integer("deleted_at"),
  },
  (t) => [
    // One live LoRA per slug; soft-deleted rows keep their slug without blocking its reuse.
    uniqueIndex("loras_owner_name_live").on(t.owner, t.name).where(sql`deleted_at is null`),
    index("loras_owner_name").on(t.owner, t.name),
    index("loras_newest").on(t.createdAt, t.id),
    index("loras_downloads").on(t.downloads, t.id),
  ],
);

export const loraVersions = sqliteTable(
  "lora_versions",
  {
    id: text("id").primaryKey(),
    loraId: text("lora_id")
      .notNull()
      .references(() => loras.id),
    version: integer("version").notNull(),
    fileSha256: text("file_sha256")
      .notNull()
      .references(() => blobs.sha256),
    fileSize: integer("file_size").notNull(),
    previewSha256: text("preview_sha256").references(() => blobs.sha256),
    referenceVideoSha256: text("reference_video_sha256").references(() => blobs.sha256),
    baseModelId: text("base_model_id").notNull(),
    baseModelSha256: text("base_model_sha256").notNull(),
    rank: integer("rank").notNull(),
    alpha: real("alpha").notNull(),
    stage: text("stage").notNull(),
    targetHeads: text("target_heads", { mode: "json" }).$type<number[][]>().notNull(),
    tuningConfig: text("tuning_config", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, string>>().notNull(),
    notes: text("notes").notNull(),
    // Clips generated with this version for other prompts: what its motion looks like on new content.
    // A runner's samples carry their motion fidelity to the reference; a person's carry none.
    samples: text("samples", { mode: "json" }).$type<{ prompt: string; preview_sha256: string; motion_fidelity?: number }[]>().notNull().default([]),
    /** The mean motion fidelity of the scored samples and their count, kept beside them so a page of cards reads it with its previews. */
    transferFidelity: real("transfer_fidelity"),
    transferSamples: integer("transfer_samples").notNull().default(0),
    downloads: integer("downloads").notNull().default(0),
    jobId: text("job_id"),
    /** The Idempotency-Key a person's publish carried, and the hash of its body: a retry returns this version. */
    idempotencyKey: text("idempotency_key"),
    requestHash: text("request_hash"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("lora_versions_lora_version").on(t.loraId, t.version),
    // One version per key and LoRA, however often a lost answer makes the client retry.
    uniqueIndex("lora_versions_idempotency").on(t.loraId, t.idempotencyKey),
    // A tune job publishes at most one version, however often its completion is retried.
    uniqueIndex("lora_versions_job").on(t.jobId),
    index("lora_versions_base_model").on(t.baseModelId, t.loraId),
    index("lora_versions_file").on(t.fileSha256),
  ],
);

export const blobs = sqliteTable("blobs", {
  sha256: text("sha256").primaryKey(),
  size: integer("size").notNull(),
  /** The kind the first upload declared: shown to readers who declared none, decides nothing (each reference checks the bytes). */
  kind: text("kind").notNull(),
  contentType: text("content_type").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Who may read a blob by hash besides readers of a LoRA version that uses it. */
export const blobOwners = sqliteTable(
  "blob_owners",
  {
    sha256: text("sha256")
      .notNull()
      .references(() => blobs.sha256),
    owner: text("owner").notNull(),
    /** 1 when `owner` uploaded the bytes (counted against its quota), 0 for read grants (job inputs and results). */
    uploaded: integer("uploaded").notNull().default(0),
    /** The kind `owner` last uploaded the bytes as (null for grants and rows older than the column). */
    kind: text("kind"),
    /**
     * When `owner` last uploaded the bytes or was granted them: an upload nothing of the owner's
     * uses yet is kept (and counted) for the grace period from here. Null: rows older than the
     * column, which count from the blob's `created_at`.
     */
    at: integer("at"),
  },
  // The owner index serves the quota sum on every upload.
  (t) => [primaryKey({ columns: [t.sha256, t.owner] }), index("blob_owners_owner").on(t.owner, t.uploaded)],
);

/**
 * Uploads in flight: each holds its declared bytes against its owner's quota from before the first
 * byte is read until it is stored (moved into `blob_owners` in the same batch) or fails (deleted),
 * so concurrent uploads cannot all fit one remaining allowance. A crashed instance's rows stop
 * counting at `expires_at`. Blob GC keeps a blob that an upload in flight names.
 */
export const blobUploads = sqliteTable(
  "blob_uploads",
  {
    id: text("id").primaryKey(),
    owner: text("owner").notNull(),
    sha256: text("sha256").notNull(),
    /** Bytes held against the quota (0 for keys the quota does not bound). */
    bytes: integer("bytes").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("blob_uploads_owner").on(t.owner, t.expiresAt), index("blob_uploads_sha256").on(t.sha256)],
);

export const jobs = sqliteTable(
  "jobs",
  {
    id: text("id").primaryKey(),
    owner: text("owner").notNull(),
    kind: text("kind").notNull(),
    status: text("status").notNull(),
    input: text("input", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    resolvedLoras: text("resolved_loras", { mode: "json" }).$type<unknown[]>().notNull(),
    result: text("result", { mode: "json" }).$type<Record<string, unknown>>(),
    error: text("error", { mode: "json" }).$type<{ code: string; message: string }>(),
    idempotencyKey: text("idempotency_key"),
    requestHash: text("request_hash").notNull(),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull(),
    runnerId: text("runner_id"),
    leaseToken: text("lease_token"),
    leaseExpiresAt: integer("lease_expires_at"),
    progress: real("progress").notNull().default(0),
    stage: text("stage"),
    versionId: text("version_id"),
    /**
     * 1 from the moment a completion is committed until its version, status event and webhook
     * delivery are written (one batch); replayed at start-up, so a crash in between loses nothing.
     */
    completionPending: integer("completion_pending").notNull().default(0),
    eventSeq: integer("event_seq").notNull().default(0),
    webhookUrl: text("webhook_url"),
    webhookEvents: text("webhook_events", { mode: "json" }).$type<string[]>(),
    /** The key that created the job: its secret signs the job's webhooks. */
    keyId: text("key_id"),
    createdAt: integer("created_at").notNull(),
    startedAt: integer("started_at"),
    finishedAt: integer("finished_at"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("jobs_owner_idempotency").on(t.owner, t.idempotencyKey),
    index("jobs_queue").on(t.status, t.createdAt, t.id),
    index("jobs_owner").on(t.owner, t.createdAt, t.id),
    // A claim counts each queued owner's running jobs and finds its latest start (jobs/fair-share.ts).
    index("jobs_owner_status").on(t.owner, t.status),
    index("jobs_owner_started").on(t.owner, t.startedAt),
  ],
);

export const jobEvents = sqliteTable(
  "job_events",
  {
    jobId: text("job_id")
      .notNull()
      .references(() => jobs.id),
    seq: integer("seq").notNull(),
    type: text("type").notNull(),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.seq] })],
);

/** One webhook delivery per (job, event): retried with backoff until delivered or out of attempts. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    jobId: text("job_id")
      .notNull()
      .references(() => jobs.id),
    event: text("event").notNull(),
    eventSeq: integer("event_seq").notNull(),
    url: text("url").notNull(),
    state: text("state").notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    nextAttemptAt: integer("next_attempt_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("webhook_deliveries_due").on(t.state, t.nextAttemptAt),
    index("webhook_deliveries_job").on(t.jobId, t.createdAt),
    // One delivery per job event, so a replayed completion cannot queue a second one.
    uniqueIndex("webhook_deliveries_job_event").on(t.jobId, t.eventSeq),
  ],
);

/**
 * Token buckets shared by every instance (Workers isolates, or several Node processes on one
 * database): `tokens` as of `at`; `taken` says whether the last request took one.
 */
export const rateBuckets = sqliteTable("rate_buckets", {
  key: text("key").primaryKey(),
  tokens: real("tokens").notNull(),
  at: integer("at").notNull(),
  taken: integer("taken").notNull(),
});

/**
 * Runners that asked for work (`/v1/runner/claim`), one row per runner id: a queued job says how
 * many are connected. `polling_until` is when its latest long poll ends; rows a day past it are dropped.
 */
export const runners = sqliteTable("runners", {
  id: text("id").primaryKey(),
  pollingUntil: integer("polling_until").notNull(),
});
