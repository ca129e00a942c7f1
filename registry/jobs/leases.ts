import { and, eq, gte, inArray, lt, sql } from "drizzle-orm";
import { JobErrorCode, type Claim, type Job, type JobError, type JobKind, type JobStatus, type ReportedJobError } from "../../sdk/schema/index.ts";
import type { Db } from "../db/client.ts";
import { jobs } from "../db/schema.ts";
import { RegistryError } from "../http/errors.ts";
import { iso, randomText } from "../ids.ts";
import type { JobEventLog } from "./events.ts";
import { ACTIVE, toJob, type JobRow } from "./rows.ts";
import { nextJobId } from "./fair-share.ts";
import type { WorkSignal } from "./work.ts";

const LEASE_EXPIRED: JobErrorCode = "lease_expired";

/** The running job held under `leaseToken`, or a 409 that tells the runner to stop. */
export async function leasedJob(db: Db, id: string, leaseToken: string, now: number): Promise<JobRow> {
  const [row] = await db.select().from(jobs).where(eq(jobs.id, id)).limit(1);
  if (!row) throw new RegistryError("not_found", `job ${id} was not found`);
  if (row.status === "canceled") throw new RegistryError("job_not_active", `job ${id} was canceled; stop work on it`);
  if (row.leaseToken !== leaseToken || row.status !== "running" || (row.leaseExpiresAt ?? 0) < now) {
    throw new RegistryError("lease_lost", `this runner no longer holds the lease on job ${id}; drop the work (it was requeued or finished elsewhere)`);
  }
  return row;
}

/**
 * The runner side of the queue: a runner claims the next queued job in one UPDATE (so two runners
 * never get the same job), heartbeats extend its lease, and an expired lease puts the job back in
 * the queue until `max_attempts` claims have been spent. Failing and releasing end a lease too.
 */
export class Leases {
  /** When a runner last asked for work: how the runner supervisor tells that one is alive. */
  lastClaimAt = 0;
  /** Runners waiting in a long-poll claim right now (alive, though they have not asked lately). */
  pollers = 0;

  constructor(
    private readonly db: Db,
    private readonly events: JobEventLog,
    private readonly work: WorkSignal,
    private readonly maxRunningPerOwner = Number.MAX_SAFE_INTEGER,
  ) {}

  /** Returns expired leases to the queue, or fails jobs that have used all their attempts. */
  async reap(now = Date.now()): Promise<{ requeued: number; failed: number }> {
    const expired = and(eq(jobs.status, "running"), lt(jobs.leaseExpiresAt, now));
    const requeued = await this.db
      .update(jobs)
      .set({ status: "queued", runnerId: null, leaseToken: null, leaseExpiresAt: null, updatedAt: now })
      .where(and(expired, lt(jobs.attempts, jobs.maxAttempts)))
      .returning({ id: jobs.id, attempts: jobs.attempts });
    for (const j of requeued) await this.events.append(j.id, "status", { status: "queued", reason: `lease expired on attempt ${j.attempts}` }, now);
    if (requeued.length) this.work.notify();
    const failed = await this.db
      .update(jobs)
      .set({
        status: "failed",
        error: sql`json_object('code', ${LEASE_EXPIRED}, 'message', 'the runner stopped heartbeating on each of ' || ${jobs.attempts} || ' attempts')`,
        leaseExpiresAt: null,
        finishedAt: now,
        updatedAt: now,
      })
      .where(and(expired, gte(jobs.attempts, jobs.maxAttempts)))
      .returning({ id: jobs.id, error: jobs.error });
    for (const j of failed) await this.events.append(j.id, "status", { status: "failed", error: j.error }, now);
    return { requeued: requeued.length, failed: failed.length };
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
        await this.work.wait(Math.min(1_000, deadline - Date.now()), signal);
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
      .where(inArray(jobs.status, ACTIVE));
    return { queued: Number(row?.queued ?? 0), leased: Number(row?.leased ?? 0) };
  }

  /** Claims the next queued job of the given kinds, owners in turn (fair-share.ts), or returns null when there is none. */
  async claim(runnerId: string, kinds: JobKind[], leaseSeconds: number, now = Date.now()): Promise<Claim | null> {
    this.lastClaimAt = now;
    await this.reap(now);
    const leaseToken = randomText(20);
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
      .where(and(eq(jobs.id, nextJobId(kinds, this.maxRunningPerOwner)), eq(jobs.status, "queued")))
      .returning();
    if (!row) return null;
    await this.events.append(row.id, "status", { status: "running", attempt: row.attempts, runner_id: runnerId }, now);
    return { job: toJob(row), lease_token: leaseToken, lease_expires_at: iso(row.leaseExpiresAt!) };
  }

  /** Extends a lease and records the progress, stage and log line the runner reports with it. */
  async heartbeat(
    id: string,
    hb: { lease_token: string; progress?: number; stage?: string; message?: string; eta_seconds?: number; lease_seconds: number },
    now = Date.now(),
  ) {
    await leasedJob(this.db, id, hb.lease_token, now);
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
    if (!row) throw new RegistryError("lease_lost", `this runner no longer holds the lease on job ${id}; drop the work`);
    const message = hb.message === undefined ? {} : { message: hb.message };
    if (hb.progress !== undefined || hb.stage !== undefined) {
      // One event per heartbeat, so a watcher hears of each change once: its log line rides along.
      // The estimate rides on the event only: it is stale by the next heartbeat, so the job row keeps none.
      const eta = hb.eta_seconds === undefined ? {} : { eta_seconds: Math.round(hb.eta_seconds) };
      await this.events.append(id, "progress", { progress: row.progress, stage: row.stage, ...eta, ...message }, now);
    } else if (hb.message !== undefined) await this.events.append(id, "log", message, now);
    return { status: row.status as JobStatus, lease_expires_at: iso(row.leaseExpiresAt!) };
  }

  /**
   * Fails a job, or requeues it when the runner says the failure is retryable and attempts remain;
   * `release` (a runner shutting down) requeues it without spending an attempt.
   */
  async fail(
    id: string,
    leaseToken: string,
    reported: ReportedJobError,
    { retryable = false, release = false, now = Date.now() }: { retryable?: boolean; release?: boolean; now?: number } = {},
  ): Promise<Job> {
    const known = JobErrorCode.safeParse(reported.code);
    const error: JobError = known.success
      ? { code: known.data, message: reported.message }
      : { code: "runner_error", message: `the runner reported '${reported.code}': ${reported.message}`.slice(0, 4_000) };
    const job = await leasedJob(this.db, id, leaseToken, now);
    const requeue = release || (retryable && job.attempts < job.maxAttempts);
    const [row] = await this.db
      .update(jobs)
      .set(
        requeue
          ? {
              status: "queued",
              runnerId: null,
              leaseToken: null,
              leaseExpiresAt: null,
              updatedAt: now,
              ...(release ? { attempts: sql`${jobs.attempts} - 1` } : {}),
            }
          : { status: "failed", error, finishedAt: now, leaseExpiresAt: null, updatedAt: now },
      )
      .where(and(eq(jobs.id, id), eq(jobs.leaseToken, leaseToken), eq(jobs.status, "running")))
      .returning();
    if (!row) throw new RegistryError("lease_lost", `this runner no longer holds the lease on job ${id}`);
    await this.events.append(id, "status", requeue ? { status: "queued", reason: error.message } : { status: "failed", error }, now);
    if (requeue) this.work.notify();
    return toJob(row);
  }
}
