import { and, desc, eq, inArray, lt, or, type SQL } from "drizzle-orm";
import type { Job, JobKind, JobStatus, Page } from "../../sdk/schema/index.ts";
import { hasScope, type Principal } from "../auth/keys.ts";
import type { BlobService } from "../blobs/service.ts";
import type { Db } from "../db/client.ts";
import { jobs } from "../db/schema.ts";
import { decodeCursor, encodeCursor } from "../http/cursor.ts";
import { RegistryError } from "../http/errors.ts";
import type { BaseModelSpec } from "../base-model/spec.ts";
import type { VersionPublisher } from "../loras/publish.ts";
import type { LoraService } from "../loras/service.ts";
import type { WebhookService } from "../webhooks/service.ts";
import { Completions } from "./completion.ts";
import { JobCreation } from "./create.ts";
import type { JobEventLog } from "./events.ts";
import { Leases } from "./leases.ts";
import { ACTIVE, toJob, type JobRow } from "./rows.ts";
import { WorkSignal } from "./work.ts";

/**
 * The job queue: rows with leases. Its parts are the modules routes call directly: `creation`
 * (create.ts), the runner's `leases` (leases.ts) and `completions` (completion.ts); the queue itself
 * owns what an owner does with jobs: read, list, cancel.
 */
export class JobQueue {
  readonly creation: JobCreation;
  readonly leases: Leases;
  readonly completions: Completions;

  constructor(
    private readonly db: Db,
    loras: LoraService,
    publisher: VersionPublisher,
    blobs: BlobService,
    private readonly events: JobEventLog,
    webhooks: WebhookService,
    baseModel: BaseModelSpec,
    maxAttempts: number,
    perOwner: { maxQueued: number; maxRunning: number } = { maxQueued: Number.MAX_SAFE_INTEGER, maxRunning: Number.MAX_SAFE_INTEGER },
  ) {
    const work = new WorkSignal();
    this.creation = new JobCreation(db, loras, blobs, events, work, baseModel, maxAttempts, perOwner.maxQueued);
    this.leases = new Leases(db, events, work, perOwner.maxRunning);
    this.completions = new Completions(db, publisher, blobs, events, webhooks);
  }

  /** A job the caller may see: its own, or any for runners and admins. */
  async get(p: Principal, id: string): Promise<JobRow> {
    const [row] = await this.db.select().from(jobs).where(eq(jobs.id, id)).limit(1);
    if (!row || (row.owner !== p.owner && !hasScope(p, "runner"))) throw new RegistryError("not_found", `job ${id} was not found`);
    return row;
  }

  /** A page of the caller's jobs, newest first. */
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
    if (job.owner !== p.owner && !hasScope(p, "admin")) throw new RegistryError("not_found", `job ${id} was not found`);
    if (job.status === "canceled") return toJob(job);
    const [row] = await this.db
      .update(jobs)
      .set({ status: "canceled", finishedAt: now, updatedAt: now, leaseExpiresAt: null })
      .where(and(eq(jobs.id, id), inArray(jobs.status, ACTIVE)))
      .returning();
    if (!row) throw new RegistryError("job_not_active", `job ${id} already ${job.status}; only queued or running jobs can be canceled`);
    await this.events.append(id, "status", { status: "canceled" }, now);
    return toJob(row);
  }
}
