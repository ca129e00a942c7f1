import { and, eq, lt, lte, sql, type SQL } from "drizzle-orm";
import type { RegistryConfig } from "../config.ts";
import type { Db } from "../db/client.ts";
import { blobOwners, blobUploads, blobs, jobs, loraVersions, loras } from "../db/schema.ts";
import type { BlobStore } from "./store.ts";

type Ref = SQL | string;

/** A LoRA version names `sha` (file, preview, reference video or a sample's preview). */
const versionNames = (sha: Ref) =>
  sql`(${loraVersions.fileSha256} = ${sha} or ${loraVersions.previewSha256} = ${sha} or ${loraVersions.referenceVideoSha256} = ${sha} or instr(${loraVersions.samples}, ${sha}) > 0)`;
/** A job names `sha` in its input, its result or the LoRA files it was pinned to. */
const jobNames = (sha: Ref) =>
  sql`(instr(${jobs.input}, ${sha}) > 0 or instr(coalesce(${jobs.result}, ''), ${sha}) > 0 or instr(${jobs.resolvedLoras}, ${sha}) > 0)`;

/**
 * Blob garbage collection, and with it the quota given back. An owner holds a blob (and is charged
 * for it, if it uploaded it) while a live LoRA of its own names it, a job of its own names it (until
 * the job's retention after it ends), or its upload or grant is younger than the grace period. A
 * blob is deleted once nobody holds it and nothing names it: no version row (a deleted LoRA's
 * versions go once no retained job pinned them), no retained job, no upload in flight.
 */
export class BlobCollector {
  constructor(
    private readonly db: Db,
    private readonly store: BlobStore,
    private readonly config: RegistryConfig,
  ) {}

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
      if (item.sha256 !== null && (await this.db.select({ one: sql`1` }).from(blobs).where(eq(blobs.sha256, item.sha256)).limit(1)).length > 0) {
        kept++;
        continue;
      }
      await this.store.deleteKey(item.key);
      removed++;
    }
    return { removed, kept };
  }

  /**
   * One pass: gives back holdings their owners no longer use (`released`), deletes deleted LoRAs'
   * versions no retained job pinned (`versions`), then deletes blobs nothing names (`removed`) and
   * lapsed upload reservations. Every delete re-checks its conditions in its own statement, so a
   * version published or an upload made meanwhile keeps what it uses.
   */
  async collectUnreferenced(now = Date.now(), max = 1_000): Promise<{ released: number; versions: number; removed: number }> {
    const cutoff = now - this.config.unreferencedBlobGraceMs;
    const retained = sql`(${jobs.finishedAt} is null or ${jobs.finishedAt} > ${now - this.config.jobBlobRetentionMs})`;
    const holds = (owner: Ref, sha: Ref) => sql`(exists (select 1 from ${loraVersions} inner join ${loras} on ${loras.id} = ${loraVersions.loraId}
        where ${loras.owner} = ${owner} and ${loras.deletedAt} is null and ${versionNames(sha)})
      or exists (select 1 from ${jobs} where ${jobs.owner} = ${owner} and ${retained} and ${jobNames(sha)}))`;
    const aged = sql`coalesce(${blobOwners.at}, (select ${blobs.createdAt} from ${blobs} where ${blobs.sha256} = ${blobOwners.sha256})) < ${cutoff}`;

    const idle = await this.db
      .select({ sha256: blobOwners.sha256, owner: blobOwners.owner })
      .from(blobOwners)
      .where(and(aged, sql`not ${holds(sql`${blobOwners.owner}`, sql`${blobOwners.sha256}`)}`))
      .limit(max);
    let released = 0;
    for (let i = 0; i < idle.length; i += 50) {
      const deletes = idle.slice(i, i + 50).map(({ sha256, owner }) =>
        this.db
          .delete(blobOwners)
          .where(and(eq(blobOwners.sha256, sha256), eq(blobOwners.owner, owner), aged, sql`not ${holds(owner, sha256)}`))
          .returning({ owner: blobOwners.owner }),
      );
      const results = await this.db.batch(deletes as [(typeof deletes)[number], ...typeof deletes]);
      released += results.reduce((n, r) => n + r.length, 0);
    }

    // A deleted LoRA's versions stay for the jobs that ran with them; young ones stay too, so a
    // tune job's version is not taken between its insert and the job's row naming it.
    const versions = await this.db
      .delete(loraVersions)
      .where(
        and(
          lt(loraVersions.createdAt, cutoff),
          sql`${loraVersions.loraId} in (select ${loras.id} from ${loras} where ${loras.deletedAt} is not null)`,
          sql`not exists (select 1 from ${jobs} where ${retained} and (${jobs.versionId} = ${loraVersions.id} or instr(${jobs.resolvedLoras}, ${loraVersions.id}) > 0))`,
        ),
      )
      .returning({ id: loraVersions.id });

    const unused = (sha: Ref) => sql`not exists (select 1 from ${blobOwners} where ${blobOwners.sha256} = ${sha})
      and not exists (select 1 from ${loraVersions} where ${versionNames(sha)})
      and not exists (select 1 from ${jobs} where ${retained} and ${jobNames(sha)})
      and not exists (select 1 from ${blobUploads} where ${blobUploads.sha256} = ${sha} and ${blobUploads.expiresAt} > ${now})`;
    const old = lt(blobs.createdAt, cutoff);
    const candidates = await this.db
      .select({ sha256: blobs.sha256 })
      .from(blobs)
      .where(and(old, unused(sql`${blobs.sha256}`)))
      .limit(max);
    let removed = 0;
    for (const { sha256 } of candidates) {
      const gone = await this.db
        .delete(blobs)
        .where(and(eq(blobs.sha256, sha256), old, unused(sha256)))
        .returning({ sha256: blobs.sha256 });
      if (gone.length === 0) continue;
      await this.store.delete(sha256);
      removed++;
    }
    await this.db.delete(blobUploads).where(lte(blobUploads.expiresAt, now));
    return { released, versions: versions.length, removed };
  }
}
