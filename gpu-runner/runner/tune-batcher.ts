import type { Engine } from "../engine/engine.ts";
import { tuneMany, type TuneJob, type TuneResult } from "../fym/tune.ts";

export interface TuneBatcherOptions {
  /** How long the first tune of a batch waits for others to join it. */
  windowMs: number;
  /** The most tunes one batch trains (the runner's concurrency: a slot per claimed job). */
  maxBatch: number;
  /** Told of each batch as it starts. */
  onBatch?: (size: number) => void;
}

/**
 * Gathers the tunes a runner's job slots start within a short window into one `tuneMany`, so an
 * engine with a batched trainer (torch) trains them in lockstep, one batched step for all: on the
 * H100 48 LoRAs cost 4.0 s of GPU each together against 16.9 s alone (RESULTS-batched-torch-h100.md).
 * One batch runs at a time; tunes that arrive meanwhile form the next. Each job keeps its own
 * progress and abort signal (a canceled job leaves the batch at its next step, the others go on),
 * a bad option fails that job alone, and a LoRA trained in a batch equals it trained alone (the
 * trainer's per-LoRA seeded draws).
 */
export class TuneBatcher {
  private pending: { job: TuneJob; resolve: (r: TuneResult) => void; reject: (e: unknown) => void }[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;

  constructor(
    private readonly engine: Engine,
    private readonly o: TuneBatcherOptions,
  ) {}

  submit(job: TuneJob): Promise<TuneResult> {
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
    // A tune whose job was canceled while it waited leaves before the batch starts.
    for (const b of taken) if (b.job.signal?.aborted) b.reject(b.job.signal.reason);
    const batch = taken.filter((b) => !b.job.signal?.aborted);
    if (!batch.length) {
      if (this.pending.length) this.start();
      return;
    }
    this.running = true;
    this.o.onBatch?.(batch.length);
    const results = tuneMany(
      this.engine,
      batch.map((b) => b.job),
    );
    for (const [i, p] of results.entries()) p.then(batch[i]!.resolve, batch[i]!.reject);
    void Promise.allSettled(results).then(() => {
      this.running = false;
      // Those that waited for this batch have waited long enough: they go now.
      if (this.pending.length) this.start();
    });
  }
}
