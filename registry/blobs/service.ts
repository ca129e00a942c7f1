import { and, eq, lt, ne, or, sql, type SQL } from "drizzle-orm";
import type { HeaderLimits } from "../../sdk/safetensors/header.ts";
import type { BlobInfo, BlobKind } from "../../sdk/schema/index.ts";
import type { Principal } from "../auth/keys.ts";
import { hasScope } from "../auth/keys.ts";
import type { RegistryConfig } from "../config.ts";
import type { Db } from "../db/client.ts";
import { blobOwners, blobs, jobs, loraVersions, loras } from "../db/schema.ts";
import { RegistryError } from "../http/errors.ts";
import { iso } from "../ids.ts";
import { maxLoraTensors } from "../base-model/spec.ts";
import { visibleTo } from "../loras/visibility.ts";
import { inspectUpload } from "./sniff.ts";
import type { BlobStore } from "./store.ts";

type BlobRow = typeof blobs.$inferSelect;

const missing = (sha256: string, field: string, kind?: BlobKind) =>
  new RegistryError("blob_missing", `${field}: no blob ${sha256}; upload it first with PUT /v1/blobs/${sha256}?kind=${kind ?? "…"}`);

export const toBlobInfo = (row: BlobRow, created?: boolean): BlobInfo => ({
  sha256: row.sha256,
  size: row.size,
  kind: row.kind as BlobKind,
  content_type: row.contentType,
  created_at: iso(row.createdAt),
  ...(created === undefined ? {} : { created }),
});

export class BlobService {
  constructor(
    private readonly db: Db,
    private readonly store: BlobStore,
    private readonly config: RegistryConfig,
  ) {}

  /** The bounds a LoRA file's safetensors header must keep, at upload and at publish. */
  get loraHeaderLimits(): HeaderLimits {
    const c = this.config;
    return { maxHeaderBytes: c.loraMaxHeaderBytes, maxTensors: c.loraMaxTensors ?? maxLoraTensors(c.baseModel), maxMetadataBytes: c.loraMaxMetadataBytes };
  }

  /**
   * Stores an upload: the bytes are committed only after hash, size and kind checks pass,
   * and the row is written only after the bytes are in place, so no row points at a missing blob.
   * Bytes already stored go through the same checks before the caller may read them (a hash alone
   * proves nothing), and no error depends on whether, or as what, they are stored.
   */
  async upload(p: Principal & { owner: string }, sha256: string, kind: BlobKind, declaredSize: number, body: ReadableStream<Uint8Array>, now = Date.now()) {
    const owner = p.owner;
    const limit = this.config.blobLimits[kind];
    if (declaredSize > limit) {
      await body.cancel().catch(() => {});
      throw new RegistryError("payload_too_large", `a ${kind} blob may be at most ${limit} bytes; this one declares ${declaredSize}`);
    }
    // Runner keys upload what jobs asked for, admins are the operator: neither is a tenant to bound.
    const trusted = hasScope(p, "runner");
    const quota = this.config.ownerQuotaBytes;
    if (!trusted && quota !== null) {
      const used = await this.usage(owner, sha256);
      if (used + declaredSize > quota) {
        await body.cancel().catch(() => {});
        throw new RegistryError(
          "quota_exceeded",
          `'${owner}' has uploaded ${used} bytes of its ${quota}-byte quota; this ${declaredSize}-byte upload does not fit. Delete unused LoRAs (unreferenced blobs are collected) or ask the operator for more`,
        );
      }
    }
    let contentType = "application/octet-stream";
    const { created } = await this.store.put(sha256, body, {
      maxBytes: limit,
      expectedSize: declaredSize,
      inspect: async (read, size) => {
        contentType = await inspectUpload(kind, read, size, { lora: this.loraHeaderLimits, trusted, clip: this.config.baseModel.clip });
      },
    });
    const [existing] = await this.db.select().from(blobs).where(eq(blobs.sha256, sha256)).limit(1);
    if (existing && existing.kind !== kind && (existing.kind === "lora" || kind === "lora")) {
      // The caller has just sent these very bytes, so naming their stored kind tells it nothing new.
      throw new RegistryError("conflict", `these bytes are already stored as a ${existing.kind} blob, not ${kind}`);
    }
    const row: BlobRow = existing ?? { sha256, size: declaredSize, kind, contentType, createdAt: now };
    if (!existing) await this.db.insert(blobs).values(row).onConflictDoNothing();
    await this.db
      .insert(blobOwners)
      .values({ sha256, owner, uploaded: 1 })
      .onConflictDoUpdate({ target: [blobOwners.sha256, blobOwners.owner], set: { uploaded: 1 } });
    return toBlobInfo(row, created);
  }

  /** Bytes `owner` has uploaded, not counting `except` (a re-upload of bytes it already paid for is free). */
  async usage(owner: string, except?: string): Promise<number> {
    const [row] = await this.db
      .select({ bytes: sql<number>`coalesce(sum(${blobs.size}), 0)` })
      .from(blobOwners)
      .innerJoin(blobs, eq(blobs.sha256, blobOwners.sha256))
      .where(and(eq(blobOwners.owner, owner), eq(blobOwners.uploaded, 1), except === undefined ? undefined : ne(blobOwners.sha256, except)));
    return Number(row?.bytes ?? 0);
  }

  async get(sha256: string): Promise<BlobRow | undefined> {
    const [row] = await this.db.select().from(blobs).where(eq(blobs.sha256, sha256)).limit(1);
    return row;
  }

  /** A blob the caller may read, or 404 (never 403, so private hashes are not confirmed). */
  async getReadable(p: Principal, sha256: string): Promise<BlobRow> {
    const row = await this.get(sha256);
    if (row && (await this.canRead(p, sha256))) return row;
    throw new RegistryError("not_found", `blob ${sha256} was not found`);
  }

  /** Runners and admins read everything; others read blobs they uploaded or that a visible LoRA version uses. */
  async canRead(p: Principal, sha256: string): Promise<boolean> {
    if (hasScope(p, "runner")) return true;
    if (p.owner !== null) {
      const [own] = await this.db
        .select({ one: sql`1` })
        .from(blobOwners)
        .where(and(eq(blobOwners.sha256, sha256), eq(blobOwners.owner, p.owner)))
        .limit(1);
      if (own) return true;
    }
    const [used] = await this.db
      .select({ one: sql`1` })
      .from(loraVersions)
      .innerJoin(loras, eq(loras.id, loraVersions.loraId))
      .where(
        and(
          or(
            eq(loraVersions.fileSha256, sha256),
            eq(loraVersions.previewSha256, sha256),
            eq(loraVersions.referenceVideoSha256, sha256),
            sql`exists (select 1 from json_each(${loraVersions.samples}) where json_extract(value, '$.preview_sha256') = ${sha256})`,
          ),
          visibleTo(p),
        ),
      )
      .limit(1);
    return used !== undefined;
  }

  /** Lets `owner` read a blob by hash (a job's inputs and results); not counted against its quota. */
  async grant(sha256: string, owner: string) {
    await this.db.insert(blobOwners).values({ sha256, owner, uploaded: 0 }).onConflictDoNothing();
  }

  /**
   * Requires a blob that `p` may read: one it cannot read is "missing" in the very words an absent
   * hash gets, so naming someone's private hash neither uses it nor confirms it exists.
   */
  async requireReadable(p: Principal, sha256: string, field: string, kind?: BlobKind): Promise<BlobRow> {
    const row = await this.get(sha256);
    if (!row || !(await this.canRead(p, sha256))) throw missing(sha256, field, kind);
    if (kind && row.kind !== kind) throw new RegistryError("validation_failed", `${field}: blob ${sha256} is a ${row.kind}, expected a ${kind}`);
    return row;
  }

  /** Requires that a blob exists, naming the field that referenced it otherwise (for callers that read every blob). */
  async require(sha256: string, field: string, kind?: BlobKind): Promise<BlobRow> {
    const row = await this.get(sha256);
    if (!row) throw missing(sha256, field, kind);
    if (kind && row.kind !== kind) throw new RegistryError("validation_failed", `${field}: blob ${sha256} is a ${row.kind}, expected a ${kind}`);
    return row;
  }

  /**
   * Deletes stored files that no row names (a crash between writing bytes and inserting the row)
   * and abandoned temporaries, once they are older than the grace period so in-flight uploads survive.
   */
  async collectOrphans(now = Date.now()): Promise<{ removed: number; kept: number }> {
    let removed = 0;
    let kept = 0;
    for await (const item of this.store.list()) {
      if (now - item.modifiedAt < this.config.orphanGraceMs) {
        kept++;
        continue;
      }
      if (item.sha256 !== null && (await this.get(item.sha256))) {
        kept++;
        continue;
      }
      await this.store.deleteKey(item.key);
      removed++;
    }
    return { removed, kept };
  }

  /**
   * Deletes blobs that nothing refers to (no version of any LoRA, deleted or not, and no job's input
   * or result) once older than the grace period: files refused at publish, abandoned uploads.
   * Each row goes in one batch whose conditions are re-checked inside it, so a version published
   * in the meantime keeps its blob.
   */
  async collectUnreferenced(now = Date.now(), max = 1_000): Promise<{ removed: number }> {
    const unreferenced = (
      sha: SQL | string,
    ) => sql`not exists (select 1 from ${loraVersions} where ${loraVersions.fileSha256} = ${sha} or ${loraVersions.previewSha256} = ${sha} or ${loraVersions.referenceVideoSha256} = ${sha} or instr(${loraVersions.samples}, ${sha}) > 0)
      and not exists (select 1 from ${jobs} where instr(${jobs.input}, ${sha}) > 0 or instr(coalesce(${jobs.result}, ''), ${sha}) > 0 or instr(${jobs.resolvedLoras}, ${sha}) > 0)`;
    const old = lt(blobs.createdAt, now - this.config.unreferencedBlobGraceMs);
    const candidates = await this.db
      .select({ sha256: blobs.sha256 })
      .from(blobs)
      .where(and(old, unreferenced(sql`${blobs.sha256}`)))
      .limit(max);
    let removed = 0;
    for (const { sha256 } of candidates) {
      const [, gone] = await this.db.batch([
        this.db.delete(blobOwners).where(and(eq(blobOwners.sha256, sha256), unreferenced(sha256))),
        this.db
          .delete(blobs)
          .where(and(eq(blobs.sha256, sha256), old, unreferenced(sha256)))
          .returning({ sha256: blobs.sha256 }),
      ]);
      if (gone.length === 0) continue;
      await this.store.delete(sha256);
      removed++;
    }
    return { removed };
  }
}
