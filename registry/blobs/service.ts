import { and, eq, or, type SQL, sql } from "drizzle-orm";
import type { HeaderLimits } from "../../sdk/safetensors/header.ts";
import type { BlobInfo, BlobKind } from "../../sdk/schema/index.ts";
import type { Principal } from "../auth/keys.ts";
import { hasScope } from "../auth/keys.ts";
import type { RegistryConfig } from "../config.ts";
import type { Db } from "../db/client.ts";
import { blobOwners, blobs, loraVersions, loras } from "../db/schema.ts";
import { RegistryError } from "../http/errors.ts";
import { iso } from "../ids.ts";
import { maxLoraTensors } from "../base-model/spec.ts";
import { visibleTo } from "../loras/visibility.ts";
import { BlobCollector } from "./gc.ts";
import { UploadQuota } from "./quota.ts";
import { checkClipPng, inspectUpload, kindOf, servesAs } from "./sniff.ts";
import type { BlobStore } from "./store.ts";

type BlobRow = typeof blobs.$inferSelect;

const missing = (sha256: string, field: string, kind?: BlobKind) =>
  new RegistryError("blob_missing", `${field}: no blob ${sha256}; upload it first with PUT /v1/blobs/${sha256}?kind=${kind ?? "…"}`);

const toBlobInfo = (row: BlobRow): BlobInfo => ({
  sha256: row.sha256,
  size: row.size,
  kind: kindOf(row.contentType),
  content_type: row.contentType,
  created_at: iso(row.createdAt),
});

/** Bytes of another kind than a reference needs: checked against what the bytes are, never against a kind someone declared first. */
const wrongKind = (row: BlobRow, field: string, kind: BlobKind) =>
  new RegistryError(
    "validation_failed",
    `${field}: blob ${row.sha256} is ${row.contentType}, which cannot serve as a ${kind}; expected a ${kind} file (upload one with ?kind=${kind})`,
    {
      field,
      expected: kind,
      content_type: row.contentType,
    },
  );

export class BlobService {
  readonly quota: UploadQuota;
  private readonly collector: BlobCollector;

  constructor(
    private readonly db: Db,
    private readonly store: BlobStore,
    private readonly config: RegistryConfig,
  ) {
    this.quota = new UploadQuota(db, config);
    this.collector = new BlobCollector(db, store, config);
  }

  /** The bounds a LoRA file's safetensors header must keep, at upload and at publish. */
  get loraHeaderLimits(): HeaderLimits {
    const c = this.config;
    return { maxHeaderBytes: c.loraMaxHeaderBytes, maxTensors: c.loraMaxTensors ?? maxLoraTensors(c.baseModel), maxMetadataBytes: c.loraMaxMetadataBytes };
  }

  /**
   * Stores an upload: its declared size is reserved against the owner's quota before the first byte
   * is read; the bytes are committed only after hash, size and kind checks pass; the rows are
   * written (and the reservation ended) in one batch after the bytes are in place, so no row points
   * at a missing blob. Bytes already stored get the same checks, the same writes and the same
   * answer: nothing in it (status, body) depends on whether, or as what, they were stored.
   */
  async upload(
    p: Principal & { owner: string },
    sha256: string,
    kind: BlobKind,
    declaredSize: number,
    body: ReadableStream<Uint8Array>,
    now = Date.now(),
  ): Promise<BlobInfo> {
    const owner = p.owner;
    const limit = this.config.blobLimits[kind];
    if (declaredSize > limit) {
      await body.cancel().catch(() => {});
      throw new RegistryError("payload_too_large", `a ${kind} blob may be at most ${limit} bytes; this one declares ${declaredSize}`);
    }
    // Runner keys upload what jobs asked for, admins are the operator: neither is a tenant to bound.
    const trusted = hasScope(p, "runner");
    const reservation = await this.quota.reserve(owner, sha256, declaredSize, !trusted, now).catch(async (e: unknown) => {
      await body.cancel().catch(() => {});
      throw e;
    });
    let settled = false;
    try {
      let contentType = "application/octet-stream";
      await this.store.put(sha256, body, {
        maxBytes: limit,
        expectedSize: declaredSize,
        inspect: async (read, size) => {
          contentType = await inspectUpload(kind, read, size, { lora: this.loraHeaderLimits, trusted, clip: this.config.baseModel.clip });
        },
      });
      await this.db.batch([
        this.db.insert(blobs).values({ sha256, size: declaredSize, kind, contentType, createdAt: now }).onConflictDoNothing(),
        // A runner's unrecognised video is refined once someone's checks recognise the bytes (say, as a LoRA).
        this.db
          .update(blobs)
          .set({ contentType })
          .where(and(eq(blobs.sha256, sha256), eq(blobs.contentType, "application/octet-stream"), sql`${contentType} <> 'application/octet-stream'`)),
        this.db
          .insert(blobOwners)
          .values({ sha256, owner, uploaded: 1, kind, at: now })
          .onConflictDoUpdate({ target: [blobOwners.sha256, blobOwners.owner], set: { uploaded: 1, kind, at: now } }),
        this.quota.settleQuery(reservation),
      ]);
      settled = true;
      return { sha256, size: declaredSize, kind, content_type: contentType, created_at: iso(now) };
    } finally {
      if (!settled) await this.quota.release(reservation).catch(() => {});
    }
  }

  /** Bytes `owner` holds against its quota (uploads in flight not included). */
  async usage(owner: string): Promise<number> {
    return (await this.quota.usage(owner)).held;
  }

  /** `p`'s own row for a blob: whether it uploaded the bytes (else a read grant) and the kind it declared. */
  private async holding(p: Principal, sha256: string) {
    if (p.owner === null) return undefined;
    const [row] = await this.db
      .select({ uploaded: blobOwners.uploaded, kind: blobOwners.kind })
      .from(blobOwners)
      .where(and(eq(blobOwners.sha256, sha256), eq(blobOwners.owner, p.owner)))
      .limit(1);
    return row;
  }

  /** What `p` is told about a blob it may read: the kind it declared itself, else the kind the bytes serve as. */
  async info(p: Principal, sha256: string): Promise<BlobInfo> {
    const row = await this.getReadable(p, sha256);
    const own = await this.holding(p, sha256);
    return { ...toBlobInfo(row), kind: (own?.kind as BlobKind | null | undefined) ?? kindOf(row.contentType) };
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

  /**
   * Runners read everything; others read blobs they uploaded, blobs a LoRA version they can see
   * holds, and blobs granted to them by a job (its inputs and results). A grant stands only while no
   * version holds the blob, or one of the grantee's own LoRAs (deleted ones included) does: what a
   * version of another owner's holds is readable exactly while that version is visible.
   */
  async canRead(p: Principal, sha256: string): Promise<boolean> {
    if (hasScope(p, "runner")) return true;
    const held = await this.holding(p, sha256);
    if (held?.uploaded === 1) return true;
    const holders = (where: SQL) =>
      this.db
        .select({ one: sql`1` })
        .from(loraVersions)
        .innerJoin(loras, eq(loras.id, loraVersions.loraId))
        .where(and(holdsBlob(sha256), where))
        .limit(1);
    const [visible] = await holders(visibleTo(p));
    if (visible) return true;
    if (!held || p.owner === null) return false;
    const [foreign, own] = await this.db.batch([holders(sql`1`), holders(eq(loras.owner, p.owner))]);
    return foreign.length === 0 || own.length > 0;
  }

  /** Lets `owner` read a blob by hash (a job's inputs and results); not counted against its quota. */
  async grant(sha256: string, owner: string, now = Date.now()) {
    await this.db.insert(blobOwners).values({ sha256, owner, uploaded: 0, at: now }).onConflictDoNothing();
  }

  /**
   * Requires a blob that `p` may read: one it cannot read is "missing" in the very words an absent
   * hash gets, so naming someone's private hash neither uses it nor confirms it exists.
   */
  async requireReadable(p: Principal, sha256: string, field: string, kind?: BlobKind): Promise<BlobRow> {
    const row = await this.get(sha256);
    if (!row || !(await this.canRead(p, sha256))) throw missing(sha256, field, kind);
    if (kind && !servesAs(row.contentType, kind)) throw wrongKind(row, field, kind);
    return row;
  }

  /**
   * Requires a readable blob a tune can train on. A PNG is checked as a clip PNG here too: bytes
   * uploaded as a preview were never checked as one at upload, and a runner should not be the first
   * to find a decompression bomb or the wrong size.
   */
  async requireClip(p: Principal, sha256: string, field: string): Promise<BlobRow> {
    const row = await this.requireReadable(p, sha256, field, "video");
    if (row.contentType === "image/png")
      await checkClipPng((start, end) => this.store.readBytes(sha256, start, end), row.size, this.config.baseModel.clip).catch((e: unknown) => {
        throw e instanceof RegistryError ? new RegistryError(e.code, `${field}: ${e.message}`) : e;
      });
    return row;
  }

  /** Requires that a blob exists, naming the field that referenced it otherwise (for callers that read every blob). */
  async require(sha256: string, field: string, kind?: BlobKind): Promise<BlobRow> {
    const row = await this.get(sha256);
    if (!row) throw missing(sha256, field, kind);
    if (kind && !servesAs(row.contentType, kind)) throw wrongKind(row, field, kind);
    return row;
  }

  /** Deletes stored files no row names and abandoned temporaries, once past the grace period (gc.ts). */
  collectOrphans(now = Date.now()) {
    return this.collector.collectOrphans(now);
  }

  /** Gives back holdings nothing of their owner's uses, and deletes blobs nothing uses (gc.ts). */
  collectUnreferenced(now = Date.now(), max = 1_000) {
    return this.collector.collectUnreferenced(now, max);
  }
}

/** Versions that hold a blob: as their file, preview, reference video or a sample's preview. */
function holdsBlob(sha256: string): SQL {
  return or(
    eq(loraVersions.fileSha256, sha256),
    eq(loraVersions.previewSha256, sha256),
    eq(loraVersions.referenceVideoSha256, sha256),
    sql`exists (select 1 from json_each(${loraVersions.samples}) where json_extract(value, '$.preview_sha256') = ${sha256})`,
  )!;
}
