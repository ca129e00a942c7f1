import type * as z from "zod";
import { Job, type JobCreate, JobEvent, type JobListQuery, Page } from "../schema/index.ts";
import { APIConnectionError, APITimeoutError, JobFailedError } from "./errors.ts";
import { type Http, type Query, throwIfAborted } from "./http.ts";
import { paginate } from "./pagination.ts";
import { readSse } from "./sse.ts";

type Opts = { signal?: AbortSignal };
const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

export interface WaitOptions {
  signal?: AbortSignal;
  /** Every event as it arrives (status, progress, log). */
  onEvent?: (event: JobEvent) => void;
  /** Poll interval when the event stream cannot be used. Default 1 s. */
  pollMs?: number;
  /** Cancel the job on the registry when `signal` aborts (default true). */
  cancelOnAbort?: boolean;
}

/** Tune and generate jobs: created idempotently, followed over SSE, cancelable. */
export class Jobs {
  constructor(private readonly http: Http) {}

  /** Queues a job; the idempotency key (generated when not given) makes retries return the same job. */
  create(body: z.input<typeof JobCreate>, opts: Opts & { idempotencyKey?: string } = {}): Promise<Job> {
    const key = opts.idempotencyKey ?? crypto.randomUUID();
    return this.http.json({ method: "POST", path: "/v1/jobs", json: body, headers: { "idempotency-key": key }, signal: opts.signal }, Job);
  }

  get(id: string, opts: Opts = {}): Promise<Job> {
    return this.http.json({ method: "GET", path: `/v1/jobs/${encodeURIComponent(id)}`, signal: opts.signal }, Job);
  }

  /** Your jobs, newest first, page by page. */
  list(query: Partial<z.input<typeof JobListQuery>> = {}, opts: Opts = {}): AsyncGenerator<Job> {
    return paginate((cursor) => this.http.json({ method: "GET", path: "/v1/jobs", query: { ...(query as Query), cursor }, signal: opts.signal }, Page(Job)));
  }

  /** Cancels a queued or running job (a running one stops at its runner's next heartbeat). */
  cancel(id: string, opts: Opts = {}): Promise<Job> {
    return this.http.json({ method: "POST", path: `/v1/jobs/${encodeURIComponent(id)}/cancel`, signal: opts.signal }, Job);
  }

  /** The job's events after `lastEventId`, as they happen; ends when the job does. */
  async *events(id: string, opts: Opts & { lastEventId?: number } = {}): AsyncGenerator<JobEvent> {
    const res = await this.http.response({
      method: "GET",
      path: `/v1/jobs/${encodeURIComponent(id)}/events`,
      headers: { accept: "text/event-stream", ...(opts.lastEventId ? { "last-event-id": String(opts.lastEventId) } : {}) },
      signal: opts.signal,
    });
    if (!res.body || !res.headers.get("content-type")?.startsWith("text/event-stream")) {
      throw new APIConnectionError(
        `the registry did not answer with an event stream (content-type ${res.headers.get("content-type")}); a proxy may be buffering it`,
      );
    }
    for await (const m of readSse(res.body, opts.signal)) yield JobEvent.parse(JSON.parse(m.data));
  }

  /**
   * Follows a job until it ends and returns it; throws JobFailedError when it fails or is canceled.
   * Streams events over SSE, resuming after the last one on a dropped connection, and falls back to
   * polling when the stream cannot be used.
   */
  async wait(id: string, opts: WaitOptions = {}): Promise<Job> {
    const { signal } = opts;
    // The cancel is awaited before wait() rejects: a script that exits on the rejection (an
    // unhandled top-level await) would otherwise drop the request and leave the job running.
    let canceling: Promise<unknown> | null = null;
    const onAbort = () => {
      if (opts.cancelOnAbort !== false) canceling = this.cancel(id).catch(() => {});
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      let last = 0;
      let streamFailures = 0;
      for (;;) {
        throwIfAborted(signal);
        if (streamFailures < 3) {
          try {
            for await (const e of this.events(id, { lastEventId: last, ...(signal ? { signal } : {}) })) {
              last = e.id;
              streamFailures = 0;
              opts.onEvent?.(e);
            }
          } catch (e) {
            throwIfAborted(signal);
            if (!(e instanceof APIConnectionError || e instanceof APITimeoutError || e instanceof TypeError)) throw e;
            streamFailures++;
          }
        } else {
          await new Promise((r) => setTimeout(r, opts.pollMs ?? 1_000));
        }
        const job = await this.get(id, signal ? { signal } : {});
        if (TERMINAL.has(job.status)) return finished(job);
        if (streamFailures >= 3 && opts.onEvent) {
          const data = job.status === "queued" ? { status: "queued", ...(job.queue && { queue: job.queue }) } : { progress: job.progress, stage: job.stage };
          opts.onEvent({ id: last, type: job.status === "queued" ? "status" : "progress", data, created_at: job.updated_at });
        }
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      if (canceling) await canceling;
    }
  }
}

function finished(job: Job): Job {
  if (job.status === "succeeded") return job;
  if (job.status === "canceled") throw new JobFailedError(`job ${job.id} was canceled`, "job_canceled", job.id);
  throw new JobFailedError(`job ${job.id} failed: ${job.error?.message ?? "no reason given"}`, job.error?.code ?? "job_failed", job.id);
}
