import { and, eq, gte, isNull, or, sql } from "drizzle-orm";
import { GenerateResult, LoraCreate, TuneResult, type Job, type ResultBlob } from "../../sdk/schema/index.ts";
import type { BlobService } from "../blobs/service.ts";
import { servesAs } from "../blobs/sniff.ts";
import type { Db } from "../db/client.ts";
import { jobs } from "../db/schema.ts";
import { RegistryError } from "../http/errors.ts";
import { parseWith } from "../http/validate.ts";
import { sha256Hex } from "../ids.ts";
import type { VersionInput, VersionPublisher } from "../loras/publish.ts";
import type { WebhookService } from "../webhooks/service.ts";
import type { JobEventLog } from "./events.ts";
import { leasedJob } from "./leases.ts";
import { splitRef } from "./refs.ts";
import { toJob, type JobRow } from "./rows.ts";

const TuneCreate = LoraCreate.omit({ name: true, owner: true });

type Result = Record<string, unknown>;

/** The hash fields of a result, as [field, sha256]: by the schemas' naming, the fields ending in `_sha256`, its samples' included. */
function hashFields(result: Result): [string, string][] {
  const top = Object.entries(result).filter((e): e is [string, string] => e[0].endsWith("_sha256") && typeof e[1] === "string");
  const samples = Array.isArray(result.samples) ? (result.samples as { preview_sha256?: unknown }[]) : [];
  const nested = samples.flatMap((x, i): [string, string][] =>
    typeof x.preview_sha256 === "string" ? [[`samples.${i}.preview_sha256`, x.preview_sha256]] : [],
  );
  return [...top, ...nested];
}

/** Every blob a stored result names: its declared blobs, and the hash fields of results stored before blobs were declared. */
function resultHashes(result: Result): Set<string> {
  const declared = Array.isArray(result.blobs) ? (result.blobs as ResultBlob[]).map((b) => b.sha256) : [];
  return new Set([...declared, ...hashFields(result).map(([, sha]) => sha)]);
}

/** The version a tune job's result publishes; built the same way for the check before the commit and the publish after it. */
function versionOf(job: Pick<JobRow, "id" | "input">, result: Result): VersionInput {
  return {
    file_sha256: result.lora_sha256 as string,
    notes: `tuned by job ${job.id}`,
    ...(result.preview_sha256 ? { preview_sha256: result.preview_sha256 as string } : {}),
    reference_video_sha256: String(job.input.video_sha256),
    samples: Array.isArray(result.samples) ? (result.samples as VersionInput["samples"]) : [],
  };
}

/**
 * Job completion in two halves. `complete` validates a runner's result and commits it together
 * with a pending mark in one UPDATE; `finish` (the outbox) writes what the commit promises (grants,
 * the tune result's version, the `succeeded` event and its webhook delivery) and clears the mark,
 * so that a crash between the two is finished by the runner's retried completion or at the next
 * start, never lost.
 */
export class Completions {
  constructor(
    private readonly db: Db,
    private readonly publisher: VersionPublisher,
    private readonly blobs: BlobService,
    private readonly events: JobEventLog,
    private readonly webhooks: WebhookService,
  ) {}

  /**
   * Completes a job with its result blobs. Idempotent for the lease that completed it; a lost
   * lease is a 409 and nothing is applied. A tune result is published as a new LoRA version, which
   * is validated before the commit, so a bad upload leaves the job running for a fix or a fail.
   */
  async complete(id: string, leaseToken: string, rawResult: unknown, now = Date.now()): Promise<Job> {
    const [current] = await this.db.select().from(jobs).where(eq(jobs.id, id)).limit(1);
    const replay = current?.status === "succeeded" && current.leaseToken === leaseToken;
    const job = replay ? current : await leasedJob(this.db, id, leaseToken, now);
    const result = job.kind === "tune" ? parseWith(TuneResult, rawResult, "result") : parseWith(GenerateResult, rawResult, "result");
    const resultHash = await sha256Hex(JSON.stringify(result));
    if (replay && (await sha256Hex(JSON.stringify(current.result))) !== resultHash) {
      throw new RegistryError("conflict", `job ${id} was already completed with a different result`);
    }
    await this.checkDeclaredBlobs(result);
    if (job.kind === "tune" && !replay) await this.publisher.check(versionOf(job, result));
    if (!replay) {
      const [row] = await this.db
        .update(jobs)
        .set({ status: "succeeded", result, progress: 1, finishedAt: now, updatedAt: now, leaseExpiresAt: null, completionPending: 1 })
        .where(and(eq(jobs.id, id), eq(jobs.leaseToken, leaseToken), eq(jobs.status, "running"), gte(jobs.leaseExpiresAt, now)))
        .returning();
      if (!row) throw new RegistryError("lease_lost", `this runner no longer holds the lease on job ${id}; the result was not applied`);
    }
    await this.finish(id, now);
    const [final] = await this.db.select().from(jobs).where(eq(jobs.id, id)).limit(1);
    return toJob(final!);
  }

  /**
   * The runner declares each blob's kind; the registry holds it to what the stored bytes are (their
   * content type, whoever uploaded them first), and requires every hash field to be declared, so no
   * blob's kind is inferred from a name.
   */
  private async checkDeclaredBlobs(result: TuneResult | GenerateResult) {
    const fieldOf = new Map<string, string>();
    for (const [field, sha] of hashFields(result)) {
      if (!result.blobs.some((b) => b.sha256 === sha)) {
        throw new RegistryError(
          "validation_failed",
          `result.${field}: blob ${sha} is not in result.blobs; list every blob the result names with the kind it is stored as`,
          { field: `result.${field}` },
        );
      }
      fieldOf.set(sha, `result.${field}`);
    }
    for (const [i, declared] of result.blobs.entries()) {
      const field = fieldOf.get(declared.sha256) ?? `result.blobs.${i}`;
      const stored = await this.blobs.require(declared.sha256, field);
      if (!servesAs(stored.contentType, declared.kind)) {
        throw new RegistryError(
          "validation_failed",
          `${field}: blob ${declared.sha256} is ${stored.contentType}, which cannot serve as the ${declared.kind} result.blobs.${i} declares; declare the kind you uploaded it as`,
          { field, declared: declared.kind, content_type: stored.contentType },
        );
      }
    }
  }

  /**
   * The second half of a completion: grants, the published version (keyed by job id, so at most
   * one), then the `succeeded` event, its webhook delivery and the cleared mark in one batch.
   * Idempotent: a replay finds the version by job id and the event and delivery by their keys.
   * Also heals jobs an older registry left succeeded without a version.
   */
  async finish(id: string, now = Date.now()): Promise<void> {
    const [job] = await this.db.select().from(jobs).where(eq(jobs.id, id)).limit(1);
    if (job?.status !== "succeeded" || !(job.completionPending || (job.kind === "tune" && job.versionId === null))) return;
    const result = job.result ?? {};
    for (const sha of resultHashes(result)) await this.blobs.grant(sha, job.owner, now);
    let versionId = job.versionId;
    if (job.kind === "tune" && versionId === null) {
      const ref = splitRef(String(job.input.lora));
      const create = job.input.create === undefined ? undefined : TuneCreate.parse(job.input.create);
      const lora = await this.publisher.targetForJob(job.owner, ref.owner, ref.name, create, now);
      const version = await this.publisher.publishTo(lora, versionOf(job, result), { jobId: id, now });
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
