export interface BatcherOptions {
  /** How long the first job of a batch waits for others to join it. */
  windowMs: number;
  /** The most jobs one batch holds (the runner's concurrency: a slot per claimed job). */
  maxBatch: number;
  /** Told of each batch as it starts. */
  onBatch?: (size: number) => void;
}

/**
 * Gathers the jobs a runner's slots start within a short window into one call of `runMany` (tuneMany,
 * generateMany), so an engine that batches (torch) runs them in lockstep, one batched call a step for
 * all. One batch runs at a time; jobs that arrive meanwhile form the next. `runMany` gives each job
 * its own promise: a job fails or is canceled alone; one canceled while it waited never joins.
 */
export class Batcher<J extends { signal?: AbortSignal }, R> {
  private pending: { job: J; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;

  constructor(
    private readonly runMany: (jobs: J[]) => Promise<R>[],
    private readonly o: BatcherOptions,
  ) {}

  submit(job: J): Promise<R> {
    return new Promise((resolve, reject) => {
      this.pending.push({ job, resolve, reject });
      if (this.running) return;
      if (this.pending.length >= this.o.maxBatch) this.start();
      else this.timer ??= setTimeout(() => this.start(), this.o.windowMs);
    });
  }

  private start() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const taken = this.pending.splice(0, this.o.maxBatch);
    for (const b of taken) if (b.job.signal?.aborted) b.reject(b.job.signal.reason);
    const batch = taken.filter((b) => !b.job.signal?.aborted);
    if (!batch.length) {
      if (this.pending.length) this.start();
      return;
    }
    this.running = true;
    this.o.onBatch?.(batch.length);
    const results = this.runMany(batch.map((b) => b.job));
    for (const [i, p] of results.entries()) p.then(batch[i]!.resolve, batch[i]!.reject);
    void Promise.allSettled(results).then(() => {
      this.running = false;
      // Those that waited for this batch have waited long enough: they go now.
      if (this.pending.length) this.start();
    });
  }
}
