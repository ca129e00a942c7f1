import { and, eq, gt, ne, sql } from "drizzle-orm";
import type { RegistryConfig } from "../config.ts";
import type { Db } from "../db/client.ts";
import { blobOwners, blobUploads, blobs } from "../db/schema.ts";
import { RegistryError } from "../http/errors.ts";
import { newId } from "../ids.ts";

const hours = (ms: number) => (ms % 86_400_000 === 0 ? `${ms / 86_400_000} days` : `${Math.round(ms / 3_600_000)} h`);

/**
 * Each owner's byte quota: what it holds (uploads something of its own still uses, or recent ones)
 * plus what its uploads in flight have reserved. A reservation is taken in one statement that
 * checks the sum and inserts, so concurrent uploads cannot all fit the same remaining bytes (SQLite
 * and D1 run a statement alone), and it becomes a holding in the batch that stores the blob's rows.
 */
export class UploadQuota {
  constructor(
    private readonly db: Db,
    private readonly config: RegistryConfig,
  ) {}

  /**
   * Reserves `bytes` for an upload of `sha256` by `owner` before its first byte is read, or throws
   * 413 quota_exceeded. Bytes the owner already holds are not charged twice, nor are concurrent
   * uploads of the same bytes by the same owner. `bounded: false` (runner and admin keys) records
   * the upload in flight without a charge, so blob GC still sees it.
   */
  async reserve(owner: string, sha256: string, bytes: number, bounded: boolean, now = Date.now()): Promise<string> {
    const id = newId("upl", now);
    const quota = this.config.ownerQuotaBytes;
    const expiresAt = now + this.config.uploadReservationMs;
    if (!bounded || quota === null) {
      await this.db.insert(blobUploads).values({ id, owner, sha256, bytes: 0, expiresAt });
      return id;
    }
    const inserted = await this.db.all<{ id: string }>(sql`
      insert into ${blobUploads} (id, owner, sha256, bytes, expires_at)
      select ${id}, ${owner}, ${sha256}, ${bytes}, ${expiresAt}
      where ${this.held(owner, sha256)} + ${this.reserved(owner, now, sha256)} + ${bytes} <= ${quota}
      returning id`);
    if (inserted.length === 1) return id;
    const { held, reserved } = await this.usage(owner, now);
    const g = this.config;
    throw new RegistryError(
      "quota_exceeded",
      `'${owner}' holds ${held} bytes of its ${quota}-byte quota${reserved ? ` and has ${reserved} more reserved by uploads under way` : ""}; this ${bytes}-byte upload does not fit. ` +
        `Bytes come back once nothing of yours uses them, at the registry's hourly collection: delete LoRAs you no longer need (their files are freed unless a job of yours from the last ${hours(g.jobBlobRetentionMs)} still uses them); ` +
        `uploads no LoRA or job of yours uses are freed ${hours(g.unreferencedBlobGraceMs)} after their upload, and a finished job's inputs and results ${hours(g.jobBlobRetentionMs)} after it ended. Or ask the operator for a larger quota`,
    );
  }

  /** Ends a reservation whose upload failed; its bytes count no more. */
  async release(id: string): Promise<void> {
    await this.db.delete(blobUploads).where(eq(blobUploads.id, id));
  }

  /** The statement that ends a reservation, for the batch that stores the blob's rows (so the bytes move from reserved to held at once). */
  settleQuery(id: string) {
    return this.db.delete(blobUploads).where(eq(blobUploads.id, id));
  }

  /** Bytes `owner` holds (uploads it still counts) and has reserved (uploads in flight). */
  async usage(owner: string, now = Date.now()): Promise<{ held: number; reserved: number }> {
    const [row] = await this.db.all<{ held: number; reserved: number }>(sql`select ${this.held(owner)} as held, ${this.reserved(owner, now)} as reserved`);
    return { held: Number(row?.held ?? 0), reserved: Number(row?.reserved ?? 0) };
  }

  private held(owner: string, except?: string) {
    return sql`(select coalesce(sum(${blobs.size}), 0) from ${blobOwners} inner join ${blobs} on ${blobs.sha256} = ${blobOwners.sha256}
      where ${and(eq(blobOwners.owner, owner), eq(blobOwners.uploaded, 1), except === undefined ? undefined : ne(blobOwners.sha256, except))})`;
  }

  private reserved(owner: string, now: number, except?: string) {
    return sql`(select coalesce(sum(${blobUploads.bytes}), 0) from ${blobUploads}
      where ${and(eq(blobUploads.owner, owner), gt(blobUploads.expiresAt, now), except === undefined ? undefined : ne(blobUploads.sha256, except))})`;
  }
}
