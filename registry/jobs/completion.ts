import { and, eq, isNull, or, sql } from "drizzle-orm";
import { LoraCreate } from "../../sdk/schema/index.ts";
import type { BlobService } from "../blobs/service.ts";
import type { Db } from "../db/client.ts";
import { jobs } from "../db/schema.ts";
import type { LoraService } from "../loras/service.ts";
import type { WebhookService } from "../webhooks/service.ts";
import type { JobEventLog } from "./events.ts";
import { splitRef } from "./refs.ts";

const TuneCreate = LoraCreate.omit({ name: true, owner: true });

/** The blob fields of a job result, with their hashes. */
export const resultBlobs = (result: Record<string, unknown>) =>
  Object.entries(result).filter(([k, v]) => k.endsWith("_sha256") && typeof v === "string") as [string, string][];
export const blobKindOf = (field: string) => (field.endsWith("preview_sha256") ? "preview" : field.includes("lora") ? "lora" : "video");

/**
 * The outbox of job completions. `JobQueue.complete` commits a result together with a pending mark
 * in one UPDATE; this writes what the commit promises (grants, the tune result's version, the
 * `succeeded` event and its webhook delivery) and clears the mark, so that a crash between the two
 * is finished by the runner's retried completion or at the next start, never lost.
 */
export class CompletionOutbox {
  constructor(
    private readonly db: Db,
    private readonly loras: LoraService,
    private readonly blobs: BlobService,
    private readonly events: JobEventLog,
    private readonly webhooks: WebhookService,
  ) {}

  /**
   * The second half of a completion: grants, the published version (keyed by job id, so at most
   * one), then the `succeeded` event, its webhook delivery and the cleared mark in one batch.
   * Idempotent: a replay finds the version by job id and the event and delivery by their keys.
   * Also heals jobs an older registry left succeeded without a version.
   */
  async finish(id: string, now = Date.now()): Promise<void> {
    const [job] = await this.db.select().from(jobs).where(eq(jobs.id, id)).limit(1);
    if (!job || job.status !== "succeeded" || !(job.completionPending || (job.kind === "tune" && job.versionId === null))) return;
    const result = job.result ?? {};
    for (const [, sha] of resultBlobs(result)) await this.blobs.grant(sha, job.owner);
    let versionId = job.versionId;
    if (job.kind === "tune" && versionId === null) {
      const ref = splitRef(String(job.input.lora));
      const create = job.input.create === undefined ? undefined : TuneCreate.parse(job.input.create);
      const lora = await this.loras.targetForJob(job.owner, ref.owner, ref.name, create, now);
      const version = await this.loras.publishTo(
        lora,
        {
          file_sha256: result.lora_sha256 as string,
          notes: `tuned by job ${id}`,
          ...(result.preview_sha256 ? { preview_sha256: result.preview_sha256 as string } : {}),
          reference_video_sha256: String(job.input.video_sha256),
        },
        { jobId: id, now },
      );
      versionId = version.id;
    }
    // Nothing else appends to a succeeded job, so the next sequence number is known; a racing
    // replay computes the same one and its inserts are no-ops.
    const seq = job.eventSeq + 1;
    const data = { status: "succeeded", result, version_id: versionId };
    const delivery = this.webhooks.deliveryQuery(job, "status", data, seq, now);
    await this.db.batch([
      this.events.insertQuery(id, seq, "status", data, now),
      ...(delivery ? [delivery] : []),
      this.db
        .update(jobs)
        .set({ versionId, completionPending: 0, eventSeq: sql`max(${jobs.eventSeq}, ${seq})`, updatedAt: now })
        .where(eq(jobs.id, id)),
    ]);
    this.events.wake(id);
    if (delivery) void this.webhooks.kick();
  }

  /** Finishes completions a crash interrupted (and versions an older registry never published); run at start-up. */
  async finishPending(log: (e: Record<string, unknown>) => void = () => {}): Promise<number> {
    const pending = await this.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.status, "succeeded"), or(eq(jobs.completionPending, 1), and(eq(jobs.kind, "tune"), isNull(jobs.versionId)))));
    let finished = 0;
    for (const { id } of pending) {
      try {
        await this.finish(id);
        finished++;
      } catch (e) {
        log({ level: "error", msg: "could not finish a job's completion; will retry at the next start", job: id, error: String(e) });
      }
    }
    return finished;
  }
}
