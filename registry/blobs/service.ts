import { and, eq, or, sql } from "drizzle-orm";
import type { BlobInfo, BlobKind } from "../../sdk/schema/index.ts";
import type { Principal } from "../auth/keys.ts";
import { hasScope } from "../auth/keys.ts";
import type { RegistryConfig } from "../config.ts";
import type { Db } from "../db/client.ts";
import { blobOwners, blobs, loraVersions, loras } from "../db/schema.ts";
import { ApiError } from "../http/errors.ts";
import { iso } from "../ids.ts";
import { visibleTo } from "../loras/visibility.ts";
import { inspectUpload } from "./sniff.ts";
import { BlobWriteError, type BlobStore } from "./store.ts";

type BlobRow = typeof blobs.$inferSelect;

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

  /**
   * Stores an upload: the bytes are committed only after hash, size and kind checks pass,
   * and the row is written only after the bytes are in place, so no row points at a missing blob.
   */
  async upload(owner: string, sha256: string, kind: BlobKind, declaredSize: number, body: ReadableStream<Uint8Array>, now = Date.now()) {
    const limit = this.config.blobLimits[kind];
    if (declaredSize > limit) {
      await body.cancel().catch(() => {});
      throw new ApiError("payload_too_large", `a ${kind} blob may be at most ${limit} bytes; this one declares ${declaredSize}`);
    }
    const [existing] = await this.db.select().from(blobs).where(eq(blobs.sha256, sha256)).limit(1);
    if (existing && existing.kind !== kind && (existing.kind === "lora" || kind === "lora")) {
      await body.cancel().catch(() => {});
      throw new ApiError("conflict", `these bytes are already stored as a ${existing.kind} blob, not ${kind}`);
    }
    let contentType = existing?.contentType ?? "application/octet-stream";
    let created = false;
    try {
      const put = await this.store.put(sha256, body, {
        maxBytes: limit,
        expectedSize: declaredSize,
        inspect: async (read, size) => {
          contentType = await inspectUpload(kind, read, size);
        },
      });
      created = put.created;
    } catch (e) {
      if (!(e instanceof BlobWriteError)) throw e;
      const code = e.reason === "too_large" ? "payload_too_large" : e.reason;
      throw new ApiError(code, e.message);
    }
    const row: BlobRow = existing ?? { sha256, size: declaredSize, kind, contentType, createdAt: now };
    if (!existing) await this.db.insert(blobs).values(row).onConflictDoNothing();
    await this.db.insert(blobOwners).values({ sha256, owner }).onConflictDoNothing();
    return toBlobInfo(row, created);
  }

  async get(sha256: string): Promise<BlobRow | undefined> {
    const [row] = await this.db.select().from(blobs).where(eq(blobs.sha256, sha256)).limit(1);
    return row;
  }

  /** A blob the caller may read, or 404 (never 403, so private hashes are not confirmed). */
  async getReadable(p: Principal, sha256: string): Promise<BlobRow> {
    const row = await this.get(sha256);
    if (row && (await this.canRead(p, sha256))) return row;
    throw new ApiError("not_found", `blob ${sha256} was not found`);
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
          or(eq(loraVersions.fileSha256, sha256), eq(loraVersions.previewSha256, sha256), eq(loraVersions.referenceVideoSha256, sha256)),
          visibleTo(p),
        ),
      )
      .limit(1);
    return used !== undefined;
  }

  /** Lets `owner` read a blob by hash (a job's inputs and results). */
  async grant(sha256: string, owner: string) {
    await this.db.insert(blobOwners).values({ sha256, owner }).onConflictDoNothing();
  }

  /** Requires that a blob exists, naming the field that referenced it otherwise. */
  async require(sha256: string, field: string, kind?: BlobKind): Promise<BlobRow> {
    const row = await this.get(sha256);
    if (!row) throw new ApiError("blob_missing", `${field}: no blob ${sha256}; upload it first with PUT /v1/blobs/${sha256}?kind=${kind ?? "…"}`);
    if (kind && row.kind !== kind) throw new ApiError("validation_failed", `${field}: blob ${sha256} is a ${row.kind}, expected a ${kind}`);
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
}
