/**
 * Wakes long-polling claims in this process when a job may have been queued (created, requeued,
 * released). Another instance's jobs wake no one here; claims also re-check every second.
 */
export class WorkSignal {
  private readonly waiters = new Set<() => void>();

  /** Resolves when a job may have been queued, after `ms`, or when `signal` aborts. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done);
      this.waiters.add(done);
    });
  }

  /** Wakes every waiting claim. */
  notify(): void {
    for (const w of [...this.waiters]) w();
  }
}
