import type { MotionLora } from "../../sdk/client/client.ts";
import { APIError, ConflictError, NotFoundError } from "../../sdk/client/errors.ts";
import { JobErrorCode, JobInputErrorCode, type Claim, type JobKind } from "../../sdk/schema/index.ts";
import { RunnerError } from "../core/errors.ts";
import type { Executor, Report } from "./execute.ts";

export interface RunnerOptions {
  client: MotionLora;
  executor: Executor;
  runnerId: string;
  concurrency?: number;
  kinds?: JobKind[];
  leaseSeconds?: number;
  /** Exit after this long with no job (serverless shape); null runs until stopped. */
  idleExitMs?: number | null;
  pollMs?: number;
  log?: (entry: Record<string, unknown>) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The code a failed job reports and whether retrying is pointless. A RunnerError says both; an
 * error from outside the runner that carries a job error code keeps it (the SDK's VideoFormatError
 * is `invalid_video`: final, since it is about the input); anything else is a `runner_error`, retried.
 */
export function failureOf(e: unknown): { code: JobErrorCode; final: boolean } {
  if (e instanceof RunnerError) return { code: e.code, final: e.final };
  const own = JobErrorCode.safeParse((e as { code?: unknown } | null)?.code);
  if (own.success) return { code: own.data, final: JobInputErrorCode.safeParse(own.data).success };
  return { code: "runner_error", final: false };
}

/** Why a job's work was aborted: canceled by its owner, lease lost, or the runner stopping. */
class Stop extends Error {
  constructor(readonly why: "canceled" | "lease_lost" | "shutdown") {
    super(why);
  }
}

/**
 * The job loop: claims jobs, runs them with heartbeats that carry progress, completes or fails them.
 * Rides out registry restarts (backs off, keeps the lease alive) and releases its jobs on stop().
 */
export class Runner {
  private stopping = false;
  private busy = 0;
  private lastBusyAt = Date.now();
  private readonly inflight = new Map<string, AbortController>();
  private readonly o: Required<Omit<RunnerOptions, "idleExitMs">> & { idleExitMs: number | null };
  private wake: (() => void) | null = null;
  private readonly stopSignal = new AbortController();

  constructor(opts: RunnerOptions) {
    this.o = {
      concurrency: 1,
      kinds: ["tune", "generate"],
      leaseSeconds: 30,
      idleExitMs: null,
      pollMs: 1_000,
      log: (e) => console.error(JSON.stringify({ ts: new Date().toISOString(), ...e })),
      ...opts,
    };
  }

  /** Runs until stop() or, with idleExitMs, until idle that long. */
  async run(): Promise<void> {
    // Before the first claim: once a job is held, time spent blocked here would be time without heartbeats.
    const t0 = Date.now();
    await this.o.executor.engine.prepare?.();
    this.o.log({
      msg: "runner started",
      runner: this.o.runnerId,
      engine: this.o.executor.engine.name,
      concurrency: this.o.concurrency,
      prepare_ms: Date.now() - t0,
    });
    await Promise.all(Array.from({ length: this.o.concurrency }, () => this.slot()));
    this.o.log({ msg: "runner stopped", runner: this.o.runnerId });
  }

  /** Writes one log entry the way the runner logs (JSON lines on stderr unless `log` was given). */
  log(entry: Record<string, unknown>): void {
    this.o.log(entry);
  }

  /** Stops claiming; running jobs are aborted and released back to the queue. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const ctl of this.inflight.values()) ctl.abort(new Stop("shutdown"));
    this.stopSignal.abort(new Stop("shutdown"));
    this.wake?.();
  }

  /** How long one claim may wait: the poll interval's worth of seconds, capped by the idle exit. */
  private waitSeconds() {
    const idle = this.o.idleExitMs === null ? 20_000 : Math.max(0, this.o.idleExitMs - (Date.now() - this.lastBusyAt));
    return Math.max(0, Math.min(20, Math.floor(idle / 1000)));
  }

  private idleTooLong() {
    return this.o.idleExitMs !== null && this.busy === 0 && Date.now() - this.lastBusyAt >= this.o.idleExitMs;
  }

  private async slot() {
    let backoff = 500;
    while (!this.stopping) {
      let claim: Claim | null;
      const wait = this.stopping ? 0 : this.waitSeconds();
      try {
        // Long poll: the registry answers the moment a job is queued, so pick-up costs no poll interval.
        claim = await this.o.client.runner.claim(
          { runner_id: this.o.runnerId, kinds: this.o.kinds, lease_seconds: this.o.leaseSeconds, wait_seconds: wait },
          { signal: this.stopSignal.signal },
        );
        backoff = 500;
      } catch (e) {
        if (this.stopping) break;
        this.o.log({ level: "warn", msg: "claim failed; retrying", error: (e as Error).message, retry_ms: backoff });
        await this.pause(backoff);
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      if (!claim) {
        if (this.idleTooLong()) {
          this.o.log({ msg: "idle; exiting", idle_ms: Date.now() - this.lastBusyAt });
          this.stop();
          break;
        }
        if (wait === 0) await this.pause(this.o.pollMs);
        continue;
      }
      this.busy++;
      try {
        await this.handle(claim);
      } finally {
        this.busy--;
        this.lastBusyAt = Date.now();
      }
    }
  }

  private pause(ms: number) {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private async handle({ job, lease_token }: Claim) {
    const api = this.o.client.runner;
    const ctl = new AbortController();
    this.inflight.set(job.id, ctl);
    const log = (e: Record<string, unknown>) => this.o.log({ job: job.id, kind: job.kind, ...e });
    log({ msg: "job claimed", attempt: job.attempts });
    // Progress within a stage may be coalesced (the latest wins); a stage change is always sent,
    // in order, so watchers see every stage however short it was.
    let latest: Report | null = null;
    const stageChanges: Report[] = [];
    let lastStage = "";
    let sentAt = Date.now();
    let beganAt = 0;
    let beating: Promise<void> | null = null;
    const beat = (force: boolean): Promise<void> => {
      if (beating || ctl.signal.aborted) return beating ?? Promise.resolve();
      const due = Date.now() - sentAt >= (this.o.leaseSeconds * 1000) / 3;
      if (!latest && !stageChanges.length && !due && !force) return Promise.resolve();
      const r = stageChanges.shift() ?? latest;
      if (r === latest) latest = null;
      beganAt = Date.now();
      beating = (async () => {
        try {
          await api.heartbeat(job.id, {
            lease_token,
            lease_seconds: this.o.leaseSeconds,
            ...(r && { progress: Math.min(1, r.progress), stage: r.stage }),
            ...(r?.message && { message: r.message.slice(0, 1000) }),
            ...(r?.etaSeconds !== undefined && { eta_seconds: Math.min(r.etaSeconds, 604_800) }),
          });
          sentAt = Date.now();
        } catch (e) {
          if (e instanceof ConflictError) ctl.abort(new Stop(e.code === "job_not_active" ? "canceled" : "lease_lost"));
          else log({ level: "warn", msg: "heartbeat failed; keeping the work and retrying", error: (e as Error).message });
        } finally {
          beating = null;
        }
        if (stageChanges.length) await beat(true);
      })();
      return beating;
    };
    let shown = 0;
    const report = (reported: Report) => {
      // Watchers see a job's progress only grow, whatever a stage's own estimate does.
      shown = Math.max(shown, Math.min(1, reported.progress));
      const r = { ...reported, progress: shown };
      if (r.stage === lastStage) {
        latest = r;
        // Also beat from the work's own progress, not only from the timer: on the ONNX engine a step
        // blocks this thread, so a timer tick lands a step late and a cancel arrives a step later still.
        if (Date.now() - beganAt >= 1_000) void beat(false);
        return;
      }
      lastStage = r.stage;
      latest = null;
      stageChanges.push(r);
      void beat(true);
    };
    const timer = setInterval(() => void beat(false), 1_000);
    try {
      const result = await this.o.executor.run(job, { signal: ctl.signal, report });
      for (let i = 0; i < 10 && (stageChanges.length || beating); i++) await beat(true);
      ctl.signal.throwIfAborted();
      await this.persist(() => api.complete(job.id, { lease_token, result }), ctl.signal);
      log({ msg: "job succeeded" });
    } catch (e) {
      const reason = ctl.signal.aborted ? ctl.signal.reason : e;
      if (reason instanceof Stop) {
        log({ msg: `job stopped: ${reason.why}` });
        if (reason.why === "shutdown") {
          await api
            .fail(job.id, { lease_token, error: { code: "runner_stopped", message: "the runner stopped; the job was requeued" }, release: true })
            .catch((err: Error) => log({ level: "warn", msg: "release failed; the lease will expire", error: err.message }));
        }
        return;
      }
      const { code, final } = failureOf(e);
      log({ level: "error", msg: "job failed", code, error: (e as Error).message, retryable: !final });
      await this.persist(
        () => api.fail(job.id, { lease_token, error: { code, message: String((e as Error)?.message ?? e).slice(0, 4000) }, retryable: !final }),
        ctl.signal,
      ).catch(() => {});
    } finally {
      clearInterval(timer);
      this.inflight.delete(job.id);
    }
  }

  /** Retries a completion/failure through registry outages until it lands or the lease is gone. */
  private async persist(call: () => Promise<unknown>, signal: AbortSignal) {
    for (let wait = 500; ; wait = Math.min(wait * 2, 5_000)) {
      try {
        return await call();
      } catch (e) {
        if (e instanceof ConflictError || e instanceof NotFoundError || signal.aborted) throw e;
        if (e instanceof APIError && e.status < 500 && e.status !== 429) throw e;
        this.o.log({ level: "warn", msg: "registry unreachable; retrying", error: (e as Error).message });
        await sleep(wait);
      }
    }
  }
}
