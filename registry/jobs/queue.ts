import { and, asc, desc, eq, gte, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import {
  GenerateResult,
  TuneResult,
  type Claim,
  type Job,
  type JobCreate,
  type JobKind,
  type JobStatus,
  type Page,
} from "../../sdk/schema/index.ts";
import { hasScope, type Principal } from "../auth/keys.ts";
import type { BlobService } from "../blobs/service.ts";
import type { Db } from "../db/client.ts";
import { jobs } from "../db/schema.ts";
import type { BaseModelSpec } from "../loras/base-model.ts";
import type { LoraService } from "../loras/service.ts";
import type { WebhookService } from "../webhooks/service.ts";
import { decodeCursor, encodeCursor } from "../http/cursor.ts";
import { ApiError } from "../http/errors.ts";
import { parseWith } from "../http/validate.ts";
import { iso, isoOrNull, newId, randomText, sha256Hex } from "../ids.ts";
import type { JobEventLog } from "./events.ts";
import { CompletionOutbox, blobKindOf, resultBlobs } from "./completion.ts";
import { checkPrompt } from "./prompt.ts";
import { splitRef } from "./refs.ts";

type JobRow = typeof jobs.$inferSelect;
const ACTIVE: JobStatus[] = ["queued", "running"];

/** A committed completion whose version and events are not written yet still reads as running. */
export const toJob = (r: JobRow): Job => ({
  id: r.id,
  kind: r.kind as JobKind,
  status: (r.completionPending ? "running" : r.status) as JobStatus,
  owner: r.owner,
  input: r.input,
  resolved_loras: r.resolvedLoras as Job["resolved_loras"],
  result: r.result,
  error: r.error,
  progress: r.progress,
  stage: r.stage,
  attempts: r.attempts,
  max_attempts: r.maxAttempts,
  version_id: r.versionId,
  webhook: r.webhookUrl,
  webhook_events_filter: (r.webhookEvents ?? []) as Job["webhook_events_filter"],
  created_at: iso(r.createdAt),
  started_at: isoOrNull(r.startedAt),
  finished_at: isoOrNull(r.finishedAt),
  updated_at: iso(r.updatedAt),
});

/**
 * The job queue: rows with leases. A runner claims the oldest queued job in one UPDATE (so two
 * runners never get the same job), heartbeats extend its lease, and an expired lease puts the job
 * back in the queue until `max_attempts` claims have been spent.
 */
export class JobQueue {
  /** When a runner last asked for work: how the runner supervisor tells that one is alive. */
  lastClaimAt = 0;
  /** Runners waiting in a long-poll claim right now (alive, though they have not asked lately). */
  pollers = 0;
  private readonly workWaiters = new Set<() => void>();
  private readonly outbox: CompletionOutbox;

  constructor(
    private readonly db: Db,
    private readonly loras: LoraService,
    private readonly blobs: BlobService,
    private readonly events: JobEventLog,
    webhooks: WebhookService,
    private readonly baseModel: BaseModelSpec,
    private readonly maxAttempts: number,
  ) {
    this.outbox = new CompletionOutbox(db, loras, blobs, events, webhooks);
  }

  /** Creates a job; the same idempotency key and body returns the first job (`replayed`), another body is a 409. */
  async create(p: Principal & { owner: string }, body: JobCreate, idempotencyKey: string | undefined, now = Date.now()) {
    const requestHash = await sha256Hex(JSON.stringify(body));
    if (idempotencyKey !== undefined) {
      const prior = await this.byIdempotencyKey(p.owner, idempotencyKey, requestHash);
      if (prior) return { job: toJob(prior), replayed: true };
    }
    checkPrompt(body.input.prompt, this.baseModel, "input.prompt");
    const resolved = body.kind === "tune" ? await this.checkTune(p, body.input) : await this.resolveLoras(p, body.input.loras);
    const row: JobRow = {
      id: newId("job", now),
      owner: p.owner,
      kind: body.kind,
      status: "queued",
      input: body.input,
      resolvedLoras: resolved,
      result: null,
      error: null,
      idempotencyKey: idempotencyKey ?? null,
      requestHash,
      attempts: 0,
      maxAttempts: this.maxAttempts,
      runnerId: null,
      leaseToken: null,
      leaseExpiresAt: null,
      progress: 0,
      stage: null,
      versionId: null,
      completionPending: 0,
      eventSeq: 0,
      webhookUrl: body.webhook ?? null,
      webhookEvents: body.webhook ? body.webhook_events_filter : null,
      keyId: p.keyId,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
    };
    const inserted = await this.db.insert(jobs).values(row).onConflictDoNothing().returning({ id: jobs.id });
    if (inserted.length === 0 && idempotencyKey !== undefined) {
      // Lost a race with a concurrent request carrying the same key.
      const prior = await this.byIdempotencyKey(p.owner, idempotencyKey, requestHash);
      if (prior) return { job: toJob(prior), replayed: true };
    }
    await this.events.append(row.id, "status", { status: "queued" }, now);
    this.notifyWork();
    return { job: toJob(row), replayed: false };
  }

  private async byIdempotencyKey(owner: string, key: string, requestHash: string): Promise<JobRow | undefined> {
    const [prior] = await this.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.owner, owner), eq(jobs.idempotencyKey, key)))
      .limit(1);
    if (prior && prior.requestHash !== requestHash) {
      throw new ApiError("idempotency_conflict", `Idempotency-Key '${key}' was already used for a different request (job ${prior.id}); use a new key`);
    }
    return prior;
  }

  private async checkTune(p: Principal & { owner: string }, input: Extract<JobCreate, { kind: "tune" }>["input"]) {
    const ref = splitRef(input.lora);
    if (input.lora.includes("@")) throw new ApiError("validation_failed", "'input.lora' names the LoRA that receives the new version: 'owner/name', without '@version'");
    const target = await this.loras.findWritable(p, ref.owner, ref.name).catch((e: unknown) => {
      if (!(e instanceof ApiError && e.code === "not_found" && input.create)) throw e;
      return null;
    });
    if (target === null && ref.owner !== p.owner && !hasScope(p, "admin")) {
      throw new ApiError("forbidden", `you may create LoRAs only under your own owner '${p.owner}'`);
    }
    if (target === null && !input.create) {
      throw new ApiError("not_found", `LoRA '${ref.owner}/${ref.name}' was not found; create it, or pass input.create to create it with its first version`);
    }
    await this.blobs.requireReadable(p, input.video_sha256, "input.video_sha256", "video");
    return [];
  }

  /** Pins each `owner/name[@v]` to a concrete version now, so later publishes do not change the job. */
  private async resolveLoras(p: Principal & { owner: string }, refs: { ref: string; weight: number }[]) {
    const out = [];
    for (const [i, { ref, weight }] of refs.entries()) {
      const r = splitRef(ref);
      const { version } = await this.loras.version(p, r.owner, r.name, r.version).catch((e: unknown) => {
        if (e instanceof ApiError && e.code === "not_found") throw new ApiError("not_found", `input.loras.${i}: ${e.message}`);
        throw e;
      });
      await this.blobs.grant(version.file_sha256, p.owner);
      out.push({ ref, version_id: version.id, file_sha256: version.file_sha256, weight });
    }
    return out;
  }

  /** A job the caller may see: its own, or any for runners and admins. */
  async get(p: Principal, id: string): Promise<JobRow> {
    const [row] = await this.db.select().from(jobs).where(eq(jobs.id, id)).limit(1);
    if (!row || (row.owner !== p.owner && !hasScope(p, "runner"))) throw new ApiError("not_found", `job ${id} was not found`);
    return row;
  }

  async list(p: Principal & { owner: string }, q: { status?: JobStatus; kind?: JobKind; limit: number; cursor?: string }): Promise<Page<Job>> {
    const where: (SQL | undefined)[] = [eq(jobs.owner, p.owner)];
    if (q.status) where.push(eq(jobs.status, q.status));
    if (q.kind) where.push(eq(jobs.kind, q.kind));
    if (q.cursor) {
      const [at, id] = decodeCursor(q.cursor);
      where.push(or(lt(jobs.createdAt, at), and(eq(jobs.createdAt, at), lt(jobs.id, id))));
    }
    const rows = await this.db
      .select()
      .from(jobs)
      .where(and(...where))
      .orderBy(desc(jobs.createdAt), desc(jobs.id))
      .limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return { data: page.map(toJob), next_cursor: rows.length > q.limit && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  /** Cancels a queued or running job; a running job's runner learns it at its next heartbeat. */
  async cancel(p: Principal, id: string, now = Date.now()): Promise<Job> {
    const job = await this.get(p, id);
    if (job.owner !== p.owner && !hasScope(p, "admin")) throw new ApiError("not_found", `job ${id} was not found`);
    if (job.status === "canceled") return toJob(job);
    const [row] = await this.db
      .update(jobs)
      .set({ status: "canceled", finishedAt: now, updatedAt: now, leaseExpiresAt: null })
      .where(and(eq(jobs.id, id), inArray(jobs.status, ACTIVE)))
      .returning();
    if (!row) throw new ApiError("job_not_active", `job ${id} already ${job.status}; only queued or running jobs can be canceled`);
    await this.events.append(id, "status", { status: "canceled" }, now);
    return toJob(row);
  }

  /** Returns expired leases to the queue, or fails jobs that have used all their attempts. */
  async reap(now = Date.now()): Promise<{ requeued: number; failed: number }> {
    const expired = and(eq(jobs.status, "running"), lt(jobs.leaseExpiresAt, now));
    const requeued = await this.db
      .update(jobs)
      .set({ status: "queued", runnerId: null, leaseToken: null, leaseExpiresAt: null, updatedAt: now })
      .where(and(expired, lt(jobs.attempts, jobs.maxAttempts)))
      .returning({ id: jobs.id, attempts: jobs.attempts });
    for (const j of requeued) await this.events.append(j.id, "status", { status: "queued", reason: `lease expired on attempt ${j.attempts}` }, now);
    if (requeued.length) this.notifyWork();
    const failed = await this.db
      .update(jobs)
      .set({
        status: "failed",
        error: sql`json_object('code', 'lease_expired', 'message', 'the runner stopped heartbeating on each of ' || ${jobs.attempts} || ' attempts')`,
        leaseExpiresAt: null,
        finishedAt: now,
        updatedAt: now,
      })
      .where(and(expired, gte(jobs.attempts, jobs.maxAttempts)))
      .returning({ id: jobs.id, error: jobs.error });
    for (const j of failed) await this.events.append(j.id, "status", { status: "failed", error: j.error }, now);
    return { requeued: requeued.length, failed: failed.length };
  }

  /** Resolves when a job may have been queued (in this process), or after `ms`. */
  waitForWork(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.workWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done);
      this.workWaiters.add(done);
    });
  }

  private notifyWork() {
    for (const w of [...this.workWaiters]) w();
  }

  /** Claims a job, waiting up to `waitMs` for one to be queued (long poll); null when none came. */
  async claimWaiting(runnerId: string, kinds: JobKind[], leaseSeconds: number, waitMs: number, signal?: AbortSignal): Promise<Claim | null> {
    const deadline = Date.now() + waitMs;
    this.pollers++;
    try {
      for (;;) {
        if (signal?.aborted) return null;
        const claim = await this.claim(runnerId, kinds, leaseSeconds);
        if (claim || Date.now() >= deadline) return claim;
        // Woken by a new job, or every second anyway: another instance's jobs wake no one here.
        await this.waitForWork(Math.min(1_000, deadline - Date.now()), signal);
      }
    } finally {
      this.pollers--;
    }
  }

  /** Jobs waiting for a runner, and jobs a runner holds a live lease on. */
  async load(now = Date.now()) {
    const [row] = await this.db
      .select({
        queued: sql<number>`sum(case when ${jobs.status} = 'queued' then 1 else 0 end)`,
        leased: sql<number>`sum(case when ${jobs.status} = 'running' and ${jobs.leaseExpiresAt} >= ${now} then 1 else 0 end)`,
      })
      .from(jobs)
      .where(inArray(jobs.status, ["queued", "running"]));
    return { queued: Number(row?.queued ?? 0), leased: Number(row?.leased ?? 0) };
  }

  /** Claims the oldest queued job of the given kinds, or returns null when there is none. */
  async claim(runnerId: string, kinds: JobKind[], leaseSeconds: number, now = Date.now()): Promise<Claim | null> {
    this.lastClaimAt = now;
    await this.reap(now);
    const leaseToken = randomText(20);
    const oldest = this.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.status, "queued"), inArray(jobs.kind, kinds)))
      .orderBy(asc(jobs.createdAt), asc(jobs.id))
      .limit(1);
    const [row] = await this.db
      .update(jobs)
      .set({
        status: "running",
        attempts: sql`${jobs.attempts} + 1`,
        runnerId,
        leaseToken,
        leaseExpiresAt: now + leaseSeconds * 1000,
        startedAt: sql`coalesce(${jobs.startedAt}, ${now})`,
        updatedAt: now,
      })
      .where(and(eq(jobs.id, sql`(${oldest})`), eq(jobs.status, "queued")))
      .returning();
    if (!row) return null;
    await this.events.append(row.id, "status", { status: "running", attempt: row.attempts, runner_id: runnerId }, now);
    return { job: toJob(row), lease_token: leaseToken, lease_expires_at: iso(row.leaseExpiresAt!) };
  }

  /** The running job held under `leaseToken`, or a 409 that tells the runner to stop. */
  private async leased(id: string, leaseToken: string, now: number): Promise<JobRow> {
    const [row] = await this.db.select().from(jobs).where(eq(jobs.id, id)).limit(1);
    if (!row) throw new ApiError("not_found", `job ${id} was not found`);
    if (row.status === "canceled") throw new ApiError("job_not_active", `job ${id} was canceled; stop work on it`);
    if (row.leaseToken !== leaseToken || row.status !== "running" || (row.leaseExpiresAt ?? 0) < now) {
      throw new ApiError("lease_lost", `this runner no longer holds the lease on job ${id}; drop the work (it was requeued or finished elsewhere)`);
    }
    return row;
  }

  async heartbeat(id: string, hb: { lease_token: string; progress?: number; stage?: string; message?: string; lease_seconds: number }, now = Date.now()) {
    await this.leased(id, hb.lease_token, now);
    const [row] = await this.db
      .update(jobs)
      .set({
        leaseExpiresAt: now + hb.lease_seconds * 1000,
        updatedAt: now,
        ...(hb.progress === undefined ? {} : { progress: hb.progress }),
        ...(hb.stage === undefined ? {} : { stage: hb.stage }),
      })
      .where(and(eq(jobs.id, id), eq(jobs.leaseToken, hb.lease_token), eq(jobs.status, "running")))
      .returning();
    if (!row) throw new ApiError("lease_lost", `this runner no longer holds the lease on job ${id}; drop the work`);
    if (hb.progress !== undefined || hb.stage !== undefined) {
      await this.events.append(id, "progress", { progress: row.progress, stage: row.stage }, now);
    }
    if (hb.message !== undefined) await this.events.append(id, "log", { message: hb.message }, now);
    return { status: row.status as JobStatus, lease_expires_at: iso(row.leaseExpiresAt!) };
  }

  /**
   * Completes a job with its result blobs. Idempotent for the lease that completed it; a lost
   * lease is a 409 and nothing is applied. A tune result is published as a new LoRA version.
   * The commit is one UPDATE that also marks the completion pending; the outbox (completion.ts)
   * then publishes the version and writes the status event and webhook delivery in one batch that
   * clears the mark. A crash in between is repaired by the runner's retry or at start-up.
   */
  async complete(id: string, leaseToken: string, rawResult: unknown, now = Date.now()): Promise<Job> {
    const [current] = await this.db.select().from(jobs).where(eq(jobs.id, id)).limit(1);
    const replay = current?.status === "succeeded" && current.leaseToken === leaseToken;
    const job = replay ? current : await this.leased(id, leaseToken, now);
    const result: Record<string, unknown> =
      job.kind === "tune" ? parseWith(TuneResult, rawResult, "result") : parseWith(GenerateResult, rawResult, "result");
    const resultHash = await sha256Hex(JSON.stringify(result));
    if (replay && (await sha256Hex(JSON.stringify(current.result))) !== resultHash) {
      throw new ApiError("conflict", `job ${id} was already completed with a different result`);
    }
    for (const [field, sha] of resultBlobs(result)) await this.blobs.require(sha, `result.${field}`, blobKindOf(field));
    if (job.kind === "tune" && !replay) {
      // Validate the file before committing, so a bad upload leaves the job running for a fix or a fail.
      await this.loras.inspectLoraFile(result.lora_sha256 as string);
    }
    if (!replay) {
      const [row] = await this.db
        .update(jobs)
        .set({ status: "succeeded", result, progress: 1, finishedAt: now, updatedAt: now, leaseExpiresAt: null, completionPending: 1 })
        .where(and(eq(jobs.id, id), eq(jobs.leaseToken, leaseToken), eq(jobs.status, "running"), gte(jobs.leaseExpiresAt, now)))
        .returning();
      if (!row) throw new ApiError("lease_lost", `this runner no longer holds the lease on job ${id}; the result was not applied`);
    }
    await this.outbox.finish(id, now);
    const [final] = await this.db.select().from(jobs).where(eq(jobs.id, id)).limit(1);
    return toJob(final!);
  }

  /** Finishes completions a crash interrupted (and versions an older registry never published); run at start-up. */
  finishPendingCompletions(log?: (e: Record<string, unknown>) => void): Promise<number> {
    return this.outbox.finishPending(log);
  }

  /** Fails a job, or requeues it when the runner says the failure is retryable and attempts remain. */
  async fail(id: string, leaseToken: string, error: { code: string; message: string }, retryable: boolean, release = false, now = Date.now()): Promise<Job> {
    const job = await this.leased(id, leaseToken, now);
    const requeue = release || (retryable && job.attempts < job.maxAttempts);
    const [row] = await this.db
      .update(jobs)
      .set(
        requeue
          ? { status: "queued", runnerId: null, leaseToken: null, leaseExpiresAt: null, updatedAt: now, ...(release ? { attempts: sql`${jobs.attempts} - 1` } : {}) }
          : { status: "failed", error, finishedAt: now, leaseExpiresAt: null, updatedAt: now },
      )
      .where(and(eq(jobs.id, id), eq(jobs.leaseToken, leaseToken), eq(jobs.status, "running")))
      .returning();
    if (!row) throw new ApiError("lease_lost", `this runner no longer holds the lease on job ${id}`);
    await this.events.append(id, "status", requeue ? { status: "queued", reason: error.message } : { status: "failed", error }, now);
    if (requeue) this.notifyWork();
    return toJob(row);
  }
}
