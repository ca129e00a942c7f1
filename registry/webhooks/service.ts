import { and, asc, eq, lte } from "drizzle-orm";
import type { JobEvent, WebhookDelivery, WebhookEvent } from "../../sdk/schema/index.ts";
import { signPayload } from "../../sdk/webhooks/signature.ts";
import type { Db } from "../db/client.ts";
import { webhookSecret } from "../auth/keys.ts";
import { jobs, webhookDeliveries } from "../db/schema.ts";
import { iso, newId } from "../ids.ts";
import { toJob } from "../jobs/queue.ts";
import { checkWebhookUrl, type Resolve } from "./url.ts";

export interface WebhookConfig {
  /** Deliver to loopback/private addresses (tests, on-premise installs); off by default (SSRF). */
  allowPrivate: boolean;
  maxAttempts: number;
  /** First retry delay; doubles each attempt (with jitter). */
  baseDelayMs: number;
  timeoutMs: number;
  /** At most one progress webhook per job this often. */
  progressEveryMs: number;
}

export const defaultWebhookConfig: WebhookConfig = { allowPrivate: false, maxAttempts: 8, baseDelayMs: 1_000, timeoutMs: 10_000, progressEveryMs: 1_000 };

type Row = typeof webhookDeliveries.$inferSelect;

const toDelivery = (r: Row): WebhookDelivery => ({
  id: r.id,
  job_id: r.jobId,
  event: r.event as WebhookEvent,
  state: r.state as WebhookDelivery["state"],
  attempts: r.attempts,
  last_status: r.lastStatus,
  last_error: r.lastError,
  next_attempt_at: r.nextAttemptAt === null ? null : iso(r.nextAttemptAt),
  created_at: iso(r.createdAt),
  updated_at: iso(r.updatedAt),
});

/** Which webhook event a job event is, if any. */
function webhookEventOf(type: JobEvent["type"], data: Record<string, unknown>): WebhookEvent | null {
  if (type === "progress") return "progress";
  if (type !== "status") return null;
  if (data.status === "running") return "start";
  if (data.status === "succeeded" || data.status === "failed" || data.status === "canceled") return "completed";
  return null;
}

/**
 * Job webhooks, at least once: each matching job event becomes a delivery row; a worker POSTs the
 * job (as it is at delivery time), signed with the creating key's secret, and retries failures with
 * exponential backoff. Rows survive restarts, so do pending deliveries.
 */
export class WebhookService {
  private readonly lastProgress = new Map<string, number>();
  private draining: Promise<void> | null = null;
  private again = false;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly db: Db,
    readonly config: WebhookConfig,
    private readonly resolve: Resolve | null,
    private readonly log: (e: Record<string, unknown>) => void,
    private readonly fetchImpl: typeof fetch = (i, init) => fetch(i, init),
  ) {}

  /** Validates a job's webhook URL at creation (a clear 422 instead of failed deliveries later). */
  check(url: string) {
    return checkWebhookUrl(url, this.config.allowPrivate, this.resolve);
  }

  /** Called for every appended job event; queues a delivery when the job's filter wants it. */
  async onEvent(jobId: string, seq: number, type: JobEvent["type"], data: Record<string, unknown>, now = Date.now()) {
    const event = webhookEventOf(type, data);
    if (!event) return;
    const [job] = await this.db.select({ url: jobs.webhookUrl, events: jobs.webhookEvents }).from(jobs).where(eq(jobs.id, jobId)).limit(1);
    if (!job?.url || !job.events?.includes(event)) return;
    if (event === "progress") {
      if (now - (this.lastProgress.get(jobId) ?? 0) < this.config.progressEveryMs) return;
      this.lastProgress.set(jobId, now);
    }
    if (event === "completed") this.lastProgress.delete(jobId);
    await this.db.insert(webhookDeliveries).values({ id: newId("whd", now), jobId, event, eventSeq: seq, url: job.url, state: "pending", nextAttemptAt: now, createdAt: now, updatedAt: now });
    this.kick();
  }

  /** Deliveries of a job, oldest first: the delivery log. */
  async list(jobId: string): Promise<WebhookDelivery[]> {
    const rows = await this.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.jobId, jobId)).orderBy(asc(webhookDeliveries.createdAt), asc(webhookDeliveries.eventSeq));
    return rows.map(toDelivery);
  }

  /** Polls for due retries (and deliveries left by a restart). */
  start(intervalMs = 1_000) {
    this.timer = setInterval(() => this.kick(), intervalMs);
    (this.timer as { unref?: () => void }).unref?.();
    this.kick();
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    await this.draining;
  }

  /** Runs the delivery worker now (one at a time; a kick while it runs makes it go round again). */
  kick(): Promise<void> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = (async () => {
      do {
        this.again = false;
        await this.drain().catch((e) => this.log({ level: "error", msg: "webhook worker failed", error: String(e) }));
      } while (this.again);
    })().finally(() => (this.draining = null));
    return this.draining;
  }

  private async drain(now = Date.now()) {
    for (;;) {
      const due = await this.db
        .select()
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.state, "pending"), lte(webhookDeliveries.nextAttemptAt, now)))
        .orderBy(asc(webhookDeliveries.nextAttemptAt), asc(webhookDeliveries.eventSeq))
        .limit(16);
      if (due.length === 0) return;
      await Promise.all(due.map((d) => this.deliver(d)));
      now = Date.now();
    }
  }

  private async deliver(d: Row) {
    const [row] = await this.db.select().from(jobs).where(eq(jobs.id, d.jobId)).limit(1);
    const secret = row?.keyId ? await webhookSecret(this.db, row.keyId) : null;
    const now = Date.now();
    const attempts = d.attempts + 1;
    let status: number | null = null;
    let error: string | null = null;
    if (!row || !secret) error = "the job or the key that created it no longer exists";
    else {
      const body = JSON.stringify({ type: `job.${d.event}`, job: toJob(row) });
      try {
        await checkWebhookUrl(d.url, this.config.allowPrivate, this.resolve);
        const headers = { "content-type": "application/json", "user-agent": "motion-lora-webhooks/1", ...(await signPayload(secret, d.id, body)) };
        const res = await this.fetchImpl(d.url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(this.config.timeoutMs) });
        status = res.status;
        await res.body?.cancel().catch(() => {});
        if (status < 200 || status >= 300) error = `receiver answered HTTP ${status}`;
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
    }
    const done = error === null;
    const giveUp = !done && (attempts >= this.config.maxAttempts || !row || !secret);
    const delay = this.config.baseDelayMs * 2 ** (attempts - 1) * (0.8 + 0.4 * Math.random());
    await this.db
      .update(webhookDeliveries)
      .set({ attempts, lastStatus: status, lastError: error, state: done ? "delivered" : giveUp ? "failed" : "pending", nextAttemptAt: done || giveUp ? null : Math.round(now + delay), updatedAt: now })
      .where(eq(webhookDeliveries.id, d.id));
    if (!done) this.log({ level: "warn", msg: "webhook delivery failed", delivery: d.id, job: d.jobId, attempt: attempts, error, retry: !giveUp });
  }
}
