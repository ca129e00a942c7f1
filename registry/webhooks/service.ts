import { and, asc, eq, lte, notInArray, sql } from "drizzle-orm";
import type { JobEvent, WebhookDelivery, WebhookEvent } from "../../sdk/schema/index.ts";
import { signPayload } from "../../sdk/webhooks/signature.ts";
import type { Db } from "../db/client.ts";
import { webhookSecret } from "../auth/keys.ts";
import { jobs, webhookDeliveries } from "../db/schema.ts";
import { iso, newId } from "../ids.ts";
import { toJob } from "../jobs/rows.ts";
import type { WebhookConfig } from "./config.ts";
import { fetchWebhookSender, WebhookRefusedError, type WebhookSender } from "./send.ts";
import { checkWebhookUrl, type Resolve } from "./url.ts";

type Row = typeof webhookDeliveries.$inferSelect;

/** Subrequests an invocation may still make (Workers count database queries and fetches alike). */
export interface Subrequests {
  left: number;
}

/**
 * What `deliver` costs at most: the job, the key's secret, the host's A and AAAA lookups (DNS over
 * HTTPS on Workers), the POST, the delivery's update.
 */
export const DELIVERY_SUBREQUESTS = 6;

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

// What the delivery log says when nothing came back: one sentence for every network failure, so
// the log cannot be used to tell a closed port from a filtered one on someone else's host.
const REFUSED = "refused: the receiver's address is not public; webhooks go to public hosts only";
const UNREACHABLE = "could not reach the receiver (no connection, or no answer in time)";

/** Resolves at `at` (or at once when `signal` aborts: a stopping registry does not wait). */
function until(at: number, signal: AbortSignal): Promise<void> {
  return new Promise((ok) => {
    if (signal.aborted || at <= Date.now()) return ok();
    const t = setTimeout(done, at - Date.now());
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      ok();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

type JobTarget = Pick<typeof jobs.$inferSelect, "id" | "webhookUrl" | "webhookEvents">;

/**
 * Job webhooks, at least once: each matching job event becomes a delivery row; a delivery pass POSTs the
 * job (as it is at delivery time), signed with the creating key's secret, and retries failures with
 * exponential backoff. Rows survive restarts, so do pending deliveries. Deliveries run
 * independently (no batch waits for its slowest member) under a global and a per-tenant cap.
 */
export class WebhookService {
  private readonly lastProgress = new Map<string, number>();
  private pumping: Promise<void> | null = null;
  private again = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly perTenant = new Map<string, number>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly db: Db,
    readonly config: WebhookConfig,
    private readonly resolve: Resolve | null,
    private readonly log: (e: Record<string, unknown>) => void,
    private readonly send: WebhookSender = fetchWebhookSender(resolve),
    /**
     * "pump": this process delivers in the background as events come (Node). "on-demand": nothing
     * runs in the background; the runtime calls `deliverDue` (Workers, whose requests may not
     * share promises or sockets, run one pass per request under waitUntil, and one a minute by cron).
     */
    private readonly mode: "pump" | "on-demand" = "pump",
  ) {}

  /** Validates a job's webhook URL at creation (a clear 422 instead of failed deliveries later). */
  check(url: string) {
    return checkWebhookUrl(url, this.config.allowPrivate, this.resolve);
  }

  /**
   * The delivery row a job event queues, as a statement for the caller to run (alone or in a batch
   * with the event itself); null when the job's filter does not want the event. One per (job, event
   * seq): a replay inserts nothing.
   */
  deliveryQuery(job: JobTarget, type: JobEvent["type"], data: Record<string, unknown>, seq: number, now: number) {
    const event = webhookEventOf(type, data);
    if (!event || !job.webhookUrl || !job.webhookEvents?.includes(event)) return null;
    if (event === "progress") {
      if (now - (this.lastProgress.get(job.id) ?? 0) < this.config.progressEveryMs) return null;
      this.lastProgress.set(job.id, now);
    }
    if (event === "completed") this.lastProgress.delete(job.id);
    return this.db
      .insert(webhookDeliveries)
      .values({
        id: newId("whd", now),
        jobId: job.id,
        event,
        eventSeq: seq,
        url: job.webhookUrl,
        state: "pending",
        nextAttemptAt: now,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing();
  }

  /** Called for every appended job event; queues a delivery when the job's filter wants it. */
  async onEvent(jobId: string, seq: number, type: JobEvent["type"], data: Record<string, unknown>, now = Date.now()) {
    if (!webhookEventOf(type, data)) return;
    const [job] = await this.db
      .select({ id: jobs.id, webhookUrl: jobs.webhookUrl, webhookEvents: jobs.webhookEvents })
      .from(jobs)
      .where(eq(jobs.id, jobId))
      .limit(1);
    const insert = job ? this.deliveryQuery(job, type, data, seq, now) : null;
    if (!insert) return;
    await insert;
    void this.kick();
  }

  /** Deliveries of a job, oldest first: the delivery log. */
  async list(jobId: string): Promise<WebhookDelivery[]> {
    const rows = await this.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.jobId, jobId))
      .orderBy(asc(webhookDeliveries.createdAt), asc(webhookDeliveries.eventSeq));
    return rows.map(toDelivery);
  }

  /** Polls for due retries (and deliveries left by a restart). */
  start(intervalMs = 1_000) {
    this.timer = setInterval(() => void this.kick(), intervalMs);
    (this.timer as { unref?: () => void }).unref?.();
    void this.kick();
  }

  /** Stops polling and cuts deliveries in flight short (each records a failed attempt, retried after a restart). */
  async stop() {
    if (this.timer) clearInterval(this.timer);
    this.stopping.abort();
    await this.pumping;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /**
   * Starts every due delivery that fits under the caps (one pass at a time; a kick while it runs
   * makes it go round again). Resolves when the pass is done, not when its deliveries are.
   */
  kick(): Promise<void> {
    if (this.mode === "on-demand") return Promise.resolve();
    if (this.pumping) {
      this.again = true;
      return this.pumping;
    }
    this.pumping = (async () => {
      do {
        this.again = false;
        await this.pump().catch((e) => this.log({ level: "error", msg: "webhook delivery pass failed", error: String(e) }));
      } while (this.again && !this.stopping.signal.aborted);
    })().finally(() => (this.pumping = null));
    return this.pumping;
  }

  /**
   * One self-contained pass over due deliveries, for "on-demand" mode. Each is claimed by moving its
   * next attempt past the send's timeouts (compare-and-set on the old value), so a concurrent pass
   * skips it and a pass that dies mid-send leaves it due again. Per-tenant caps hold within a pass;
   * the pass claims no more than `budget` can pay for (it spends what it uses).
   */
  async deliverDue(now = Date.now(), budget: Subrequests = { left: Number.POSITIVE_INFINITY }): Promise<number> {
    const c = this.config;
    budget.left -= 1;
    const due = await this.db
      .select({ delivery: webhookDeliveries, owner: jobs.owner })
      .from(webhookDeliveries)
      .innerJoin(jobs, eq(jobs.id, webhookDeliveries.jobId))
      .where(and(eq(webhookDeliveries.state, "pending"), lte(webhookDeliveries.nextAttemptAt, now)))
      .orderBy(asc(webhookDeliveries.nextAttemptAt), asc(webhookDeliveries.eventSeq))
      .limit(c.concurrency * 2);
    const hold = now + c.connectTimeoutMs + c.timeoutMs + 5_000;
    const perTenant = new Map<string, number>();
    const claimed: Row[] = [];
    for (const { delivery, owner } of due) {
      if (claimed.length >= c.concurrency || budget.left < 1 + DELIVERY_SUBREQUESTS) break;
      if ((perTenant.get(owner) ?? 0) >= c.perTenantConcurrency) continue;
      budget.left -= 1;
      const [won] = await this.db
        .update(webhookDeliveries)
        .set({ nextAttemptAt: hold })
        .where(and(eq(webhookDeliveries.id, delivery.id), eq(webhookDeliveries.state, "pending"), eq(webhookDeliveries.nextAttemptAt, delivery.nextAttemptAt!)))
        .returning({ id: webhookDeliveries.id });
      if (!won) continue;
      budget.left -= DELIVERY_SUBREQUESTS;
      perTenant.set(owner, (perTenant.get(owner) ?? 0) + 1);
      claimed.push(delivery);
    }
    // A signal of this pass's own: on Workers one made in another request's context cannot be used here.
    const signal = new AbortController().signal;
    await Promise.allSettled(
      claimed.map((d) => this.deliver(d, signal).catch((e) => this.log({ level: "error", msg: "webhook delivery crashed", delivery: d.id, error: String(e) }))),
    );
    return claimed.length;
  }

  /**
   * `deliverDue` passes until nothing falls due within `budgetMs`: a retry a few seconds out still
   * goes from the pass that failed (a Worker's waitUntil grace is 30 s); later ones wait for the
   * cron. Stops before config `subrequestsPerDrain` would be exceeded; returns the deliveries made.
   */
  async drain(budgetMs: number): Promise<number> {
    const end = Date.now() + budgetMs;
    const budget: Subrequests = { left: this.config.subrequestsPerDrain ?? Number.POSITIVE_INFINITY };
    let sent = 0;
    // A pass that can pay for one delivery: its query for due rows, a claim, the delivery, the query for the next due time.
    while (budget.left >= 1 + 1 + DELIVERY_SUBREQUESTS + 1) {
      sent += await this.deliverDue(Date.now(), budget);
      budget.left -= 1;
      const [next] = await this.db
        .select({ at: sql<number | null>`min(${webhookDeliveries.nextAttemptAt})` })
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.state, "pending"));
      if (next?.at == null || next.at > end) break;
      await new Promise((ok) => setTimeout(ok, Math.max(0, next.at! - Date.now())));
    }
    return sent;
  }

  /** Deliveries in flight now (tests and metrics). */
  get active(): number {
    return this.inFlight.size;
  }

  private async pump(now = Date.now()) {
    while (!this.stopping.signal.aborted) {
      const free = this.config.concurrency - this.inFlight.size;
      if (free <= 0) return;
      // A tenant at its cap is left out of the query, so its backlog cannot fill the page.
      const saturated = [...this.perTenant].filter(([, n]) => n >= this.config.perTenantConcurrency).map(([owner]) => owner);
      const busy = [...this.inFlight.keys()];
      const due = await this.db
        .select({ delivery: webhookDeliveries, owner: jobs.owner })
        .from(webhookDeliveries)
        .innerJoin(jobs, eq(jobs.id, webhookDeliveries.jobId))
        .where(
          and(
            eq(webhookDeliveries.state, "pending"),
            lte(webhookDeliveries.nextAttemptAt, now),
            busy.length ? notInArray(webhookDeliveries.id, busy) : undefined,
            saturated.length ? notInArray(jobs.owner, saturated) : undefined,
          ),
        )
        .orderBy(asc(webhookDeliveries.nextAttemptAt), asc(webhookDeliveries.eventSeq))
        .limit(free * 2);
      let started = 0;
      for (const { delivery, owner } of due) {
        if (this.inFlight.size >= this.config.concurrency) return;
        if ((this.perTenant.get(owner) ?? 0) >= this.config.perTenantConcurrency) continue;
        this.begin(delivery, owner);
        started++;
      }
      if (started === 0) return;
      now = Date.now();
    }
  }

  private begin(d: Row, owner: string) {
    this.perTenant.set(owner, (this.perTenant.get(owner) ?? 0) + 1);
    const run = this.deliver(d, this.stopping.signal)
      .catch((e) => this.log({ level: "error", msg: "webhook delivery crashed", delivery: d.id, error: String(e) }))
      .finally(() => {
        this.inFlight.delete(d.id);
        const n = (this.perTenant.get(owner) ?? 1) - 1;
        if (n <= 0) this.perTenant.delete(owner);
        else this.perTenant.set(owner, n);
        if (!this.stopping.signal.aborted) void this.kick();
      });
    this.inFlight.set(d.id, run);
  }

  private async deliver(d: Row, signal: AbortSignal) {
    const [row] = await this.db.select().from(jobs).where(eq(jobs.id, d.jobId)).limit(1);
    const secret = row?.keyId ? await webhookSecret(this.db, row.keyId) : null;
    const attempts = d.attempts + 1;
    let status: number | null = null;
    let error: string | null = null;
    let refused = false;
    const began = Date.now();
    if (!row || !secret) error = "the job or the key that created it no longer exists";
    else {
      const body = JSON.stringify({ type: `job.${d.event}`, job: toJob(row) });
      try {
        const headers = { "content-type": "application/json", "user-agent": "motion-lora-webhooks/1", ...(await signPayload(secret, d.id, body)) };
        const c = this.config;
        const res = await this.send({
          url: new URL(d.url),
          headers,
          body,
          allowPrivate: c.allowPrivate,
          connectTimeoutMs: c.connectTimeoutMs,
          timeoutMs: c.timeoutMs,
          signal,
        });
        status = res.status;
        if (status < 200 || status >= 300) error = `receiver answered HTTP ${status}`;
      } catch (e) {
        refused = e instanceof WebhookRefusedError;
        error = refused ? REFUSED : UNREACHABLE;
        this.log({ level: "warn", msg: "webhook not sent", delivery: d.id, job: d.jobId, detail: String(e) });
        // A closed port fails in milliseconds, a silent one at the timeout: the owner sees every
        // failure land at the timeout (updated_at, next_attempt_at, when attempts moves), so the
        // log cannot tell them apart to scan ports. A refusal is about the address, never sent.
        if (!refused) await until(began + this.config.timeoutMs, signal);
      }
    }
    const now = Date.now();
    const done = error === null;
    // A refused target is not retried: an address that is private now is an attack, not an outage.
    const giveUp = !done && (attempts >= this.config.maxAttempts || !row || !secret || refused);
    const delay = this.config.baseDelayMs * 2 ** (attempts - 1) * (0.8 + 0.4 * Math.random());
    await this.db
      .update(webhookDeliveries)
      .set({
        attempts,
        lastStatus: status,
        lastError: error,
        state: done ? "delivered" : giveUp ? "failed" : "pending",
        nextAttemptAt: done || giveUp ? null : Math.round(now + delay),
        updatedAt: now,
      })
      .where(eq(webhookDeliveries.id, d.id));
    if (!done) this.log({ level: "warn", msg: "webhook delivery failed", delivery: d.id, job: d.jobId, attempt: attempts, error, retry: !giveUp });
  }
}
