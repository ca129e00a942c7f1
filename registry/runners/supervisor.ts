import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { JobQueue } from "../jobs/queue.ts";
import { askForRunner } from "./runner-webhook.ts";

export type RunnerMode = "local" | "webhook" | "off";

export interface SupervisorOptions {
  mode: RunnerMode;
  jobs: JobQueue;
  registryUrl: string;
  /** local: a key with the runner scope, handed to the child in its environment (not argv, which `ps` shows). */
  token?: string;
  /** local: the child exits after this long idle. */
  idleExitSeconds?: number;
  /** webhook: where to POST "start a runner" (a container platform's endpoint), and the secret that signs it. */
  webhookUrl?: string;
  webhookSecret?: string;
  log: (e: Record<string, unknown>) => void;
  env?: Record<string, string>;
}

const BIN = fileURLToPath(new URL("../../bin/motion-lora.js", import.meta.url));
// A runner that asked for work this recently is alive even between jobs (it polls every second).
const LIVE_MS = 5_000;
const WEBHOOK_EVERY_MS = 30_000;

/**
 * Makes sure queued jobs get a runner: the embedded default starts a local one on demand (it exits
 * when idle); otherwise a configured webhook asks a platform to start one.
 */
export class RunnerSupervisor {
  private child: ChildProcess | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastWebhookAt = 0;
  private checking = false;

  constructor(private readonly o: SupervisorOptions) {}

  start(intervalMs = 1_000) {
    if (this.o.mode === "off") return;
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
  }

  get childPid() {
    return this.child?.pid ?? null;
  }

  /** Starts (or asks for) a runner when jobs are queued and none is alive. */
  async check(now = Date.now()) {
    if (this.checking || this.o.mode === "off") return;
    this.checking = true;
    try {
      const { queued, leased } = await this.o.jobs.leases.load(now);
      const live = this.child !== null || leased > 0 || this.o.jobs.leases.pollers > 0 || now - this.o.jobs.leases.lastClaimAt < LIVE_MS;
      if (queued === 0 || live) return;
      if (this.o.mode === "local") this.spawnLocal();
      else if (now - this.lastWebhookAt >= WEBHOOK_EVERY_MS) {
        this.lastWebhookAt = now;
        await askForRunner(
          { url: this.o.webhookUrl!, ...(this.o.webhookSecret ? { secret: this.o.webhookSecret } : {}) },
          this.o.registryUrl,
          queued,
          this.o.log,
        );
      }
    } catch (e) {
      this.o.log({ level: "error", msg: "runner supervisor check failed", error: String(e) });
    } finally {
      this.checking = false;
    }
  }

  private spawnLocal() {
    const child = spawn(process.execPath, [BIN, "runner", "start", "--registry", this.o.registryUrl, "--idle-exit", String(this.o.idleExitSeconds ?? 60)], {
      env: { ...process.env, ...this.o.env, MOTION_LORA_TOKEN: this.o.token ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    this.o.log({ msg: "started a local runner", pid: child.pid });
    const forward = (b: Buffer) => {
      for (const line of b.toString().split("\n")) if (line.trim()) this.o.log({ source: "runner", pid: child.pid, line });
    };
    child.stdout?.on("data", forward);
    child.stderr?.on("data", forward);
    child.on("exit", (code, signal) => {
      this.o.log({ msg: "local runner exited", pid: child.pid, code, signal });
      if (this.child === child) this.child = null;
    });
  }

  /** Stops the local runner (SIGTERM: it releases its job), waiting up to `graceMs` before SIGKILL. */
  async stop(graceMs = 10_000) {
    if (this.timer) clearInterval(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
    child.kill("SIGTERM");
    const timeout = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timeout);
  }
}
