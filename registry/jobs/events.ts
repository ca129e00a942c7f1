import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { JobEvent } from "../../sdk/schema/index.ts";
import type { Db } from "../db/client.ts";
import { jobEvents, jobs } from "../db/schema.ts";
import { iso } from "../ids.ts";

type EventType = JobEvent["type"];

/**
 * The per-job event log behind the SSE stream. The database is the source of truth (so a stream
 * resumes from any `Last-Event-ID`, on any instance); the in-process wake-up only cuts latency.
 */
export class JobEventLog {
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly db: Db,
    /** Sees every appended event (the webhook dispatcher); its failures never fail the append. */
    private readonly listener?: (jobId: string, seq: number, type: EventType, data: Record<string, unknown>, now: number) => Promise<void>,
  ) {}

  async append(jobId: string, type: EventType, data: Record<string, unknown>, now = Date.now()): Promise<number> {
    const [row] = await this.db
      .update(jobs)
      .set({ eventSeq: sql`${jobs.eventSeq} + 1` })
      .where(eq(jobs.id, jobId))
      .returning({ seq: jobs.eventSeq });
    if (!row) throw new Error(`no job ${jobId}`);
    await this.db.insert(jobEvents).values({ jobId, seq: row.seq, type, data, createdAt: now });
    this.wake(jobId);
    await this.listener?.(jobId, row.seq, type, data, now).catch((e) =>
      console.error(JSON.stringify({ level: "error", msg: "job event listener failed", job: jobId, error: String(e) })),
    );
    return row.seq;
  }

  /**
   * The insert of event `seq` for a batch that writes it together with other rows (a completion);
   * a repeat of the same (job, seq) is a no-op. Call `wake` once the batch has committed.
   */
  insertQuery(jobId: string, seq: number, type: EventType, data: Record<string, unknown>, now: number) {
    return this.db.insert(jobEvents).values({ jobId, seq, type, data, createdAt: now }).onConflictDoNothing();
  }

  async after(jobId: string, seq: number, limit = 500): Promise<JobEvent[]> {
    const rows = await this.db
      .select()
      .from(jobEvents)
      .where(and(eq(jobEvents.jobId, jobId), gt(jobEvents.seq, seq)))
      .orderBy(asc(jobEvents.seq))
      .limit(limit);
    return rows.map((r) => ({ id: r.seq, type: r.type as EventType, data: r.data, created_at: iso(r.createdAt) }));
  }

  /** Calls `fn` on each event this instance appends to the job, until the returned function is called. */
  subscribe(jobId: string, fn: () => void): () => void {
    let set = this.waiters.get(jobId);
    if (!set) {
      set = new Set();
      this.waiters.set(jobId, set);
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.waiters.get(jobId) === set) this.waiters.delete(jobId);
    };
  }

  /** Wakes this process's SSE streams of the job. */
  wake(jobId: string) {
    for (const w of [...(this.waiters.get(jobId) ?? [])]) w();
  }
}
