import type { QueueState, RunnerOnDemand } from "../../sdk/schema/index.ts";
import type { Db } from "../db/client.ts";
import { RegistryError } from "../http/errors.ts";
import type { JobEventLog } from "./events.ts";
import { jobStandings } from "./queue-position.ts";

/** A stream waiting for events of `jobId` after `last`. */
interface Watcher {
  jobId: string;
  last: number;
  wake(why?: "queue"): void;
}

// A poll a Worker canceled mid-query (its request ended) never settles: after this many intervals
// another stream polls instead.
const STALE_POLLS = 5;

/**
 * What an instance's open event streams share: one read every `pollMs` of all the jobs they watch,
 * instead of a read per stream per second (1,500 streams took a Node registry to 79% CPU and a
 * health check to 547 ms at p90), and a count of open streams per key.
 *
 * Each stream waits on its own promise and timer: a Worker runs each request in its own context, and
 * a request that awaits a promise another request's I/O settles is canceled when that request ends.
 * So no loop owns the poll: whichever stream's timer finds it due runs it (in its own request) and
 * wakes the streams whose job has moved past what they sent; appends in this instance wake at once.
 */
export class StreamWatch {
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly openPerKey = new Map<string, number>();
  private lastPollAt = 0;
  /** Watched queued jobs' place in line and runners connected, as the last poll read them. */
  private queues = new Map<string, QueueState>();
  private pollingSince: number | null = null;

  constructor(
    private readonly db: Db,
    private readonly events: JobEventLog,
    private readonly pollMs: number,
    private readonly maxPerKey: number,
    /** How the registry gets a runner while none is connected, told with each standing. */
    private readonly onDemand: RunnerOnDemand | null = null,
  ) {}

  /** Counts a stream against its key, or refuses it (429); call the returned function once the stream ends. */
  open(key: string): () => void {
    const n = this.openPerKey.get(key) ?? 0;
    if (n >= this.maxPerKey) {
      throw new RegistryError(
        "too_many_streams",
        `this key already has ${n} event streams open, the most it may; close one (a finished job's stream ends by itself), or poll GET /v1/jobs/:id, and retry`,
        { open: n, limit: this.maxPerKey },
        { "Retry-After": "10" },
      );
    }
    this.openPerKey.set(key, n + 1);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      const left = (this.openPerKey.get(key) ?? 1) - 1;
      if (left > 0) this.openPerKey.set(key, left);
      else this.openPerKey.delete(key);
    };
  }

  /**
   * Resolves true when the job may have events after `last` (appended in this instance, or seen by
   * the shared poll), false after `ms` or on abort.
   */
  wait(jobId: string, last: number, ms: number, signal?: AbortSignal): Promise<boolean | "queue"> {
    return new Promise((resolve) => {
      const deadline = Date.now() + ms;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let settled = false;
      const finish = (news: boolean | "queue") => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", aborted);
        unsubscribe();
        const set = this.watchers.get(jobId);
        set?.delete(watcher);
        if (set?.size === 0) this.watchers.delete(jobId);
        resolve(news);
      };
      const aborted = () => finish(false);
      const watcher: Watcher = { jobId, last, wake: (why) => finish(why ?? true) };
      const unsubscribe = this.events.subscribe(jobId, watcher.wake);
      const tick = async () => {
        if (Date.now() >= deadline) return finish(false);
        if (this.pollDue()) await this.poll().catch((e) => console.error(JSON.stringify({ level: "error", msg: "stream poll failed", error: String(e) })));
        if (settled) return;
        timer = setTimeout(tick, Math.max(1, Math.min(deadline, this.nextCheck()) - Date.now()));
      };
      let set = this.watchers.get(jobId);
      if (!set) {
        set = new Set();
        this.watchers.set(jobId, set);
      }
      set.add(watcher);
      signal?.addEventListener("abort", aborted);
      if (signal?.aborted) return finish(false);
      timer = setTimeout(tick, Math.max(1, Math.min(deadline, this.nextCheck()) - Date.now()));
    });
  }

  /** A watched queued job's place in line, the runners connected and whether the registry starts one, as the shared poll last read them; null when not known or not queued. */
  queueOf(jobId: string): QueueState | null {
    return this.queues.get(jobId) ?? null;
  }

  /**
   * When a waiting stream next looks whether the poll is due: spread over a fifth of an interval,
   * so a thousand streams' timers do not all fire in the same millisecond; the first of them polls.
   */
  private nextCheck(): number {
    return this.lastPollAt + this.pollMs + Math.random() * (this.pollMs / 5);
  }

  private pollDue(now = Date.now()): boolean {
    const inFlight = this.pollingSince !== null && now - this.pollingSince < STALE_POLLS * this.pollMs;
    return !inFlight && now - this.lastPollAt >= this.pollMs;
  }

  /** One query for every watched job: each stream whose job has an event past its last is woken. */
  private async poll(): Promise<void> {
    const started = Date.now();
    this.pollingSince = started;
    this.lastPollAt = started;
    try {
      const ids = [...this.watchers.keys()];
      if (ids.length === 0) return;
      // One query: the event counters, and where the queued ones stand (a place in line changes with no event of the job's own).
      const standings = await jobStandings(this.db, ids, this.onDemand);
      const before = this.queues;
      this.queues = new Map([...standings].flatMap(([id, st]) => (st.queue ? [[id, st.queue] as const] : [])));
      for (const [id, st] of standings) {
        const moved = JSON.stringify(st.queue ?? null) !== JSON.stringify(before.get(id) ?? null);
        for (const w of [...(this.watchers.get(id) ?? [])]) {
          if (st.eventSeq > w.last) w.wake();
          else if (moved) w.wake("queue");
        }
      }
    } finally {
      if (this.pollingSince === started) this.pollingSince = null;
    }
  }
}
