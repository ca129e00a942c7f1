import { streamSSE } from "hono/streaming";
import * as z from "zod";
import {
  Claim,
  ClaimRequest,
  Complete,
  Fail,
  Heartbeat,
  HeartbeatReply,
  Job,
  JobCreate,
  JobEvent,
  JobListQuery,
  Page,
  WebhookDelivery,
  WebhookSecret,
} from "../../sdk/schema/index.ts";
import { webhookSecret, withOwner } from "../auth/keys.ts";
import type { Services } from "../context.ts";
import { RegistryError } from "../http/errors.ts";
import { idempotencyKey, param } from "../http/validate.ts";
import type { Api } from "../openapi/api.ts";
import { sawRunner, withQueue } from "./queue-position.ts";
import { toJob } from "./rows.ts";

const JobId = z.string().regex(/^job_[0-9a-z]{26}$/, "is not a job id");
const TERMINAL = new Set(["succeeded", "failed", "canceled"]);
const KEEPALIVE_MS = 15_000;

export function jobRoutes(api: Api, s: Services) {
  api.op(
    {
      method: "post",
      path: "/v1/jobs",
      tag: "Jobs",
      scope: "write",
      summary: "Create a tune or generate job (send Idempotency-Key so a retry never makes a second job)",
      headers: { "Idempotency-Key": "optional; the same key and body returns the first job, another body is a 409" },
      body: JobCreate,
      responses: { 200: { description: "replayed: the job this key already created", schema: Job }, 201: { description: "queued", schema: Job } },
    },
    async (c, { body }) => {
      const key = idempotencyKey(c);
      if (body.webhook) await s.webhooks.check(body.webhook);
      const { job, replayed } = await s.jobs.creation.create(withOwner(c.get("principal")), body, key);
      const [shown] = await withQueue(s.db, [job], s.config.runnerOnDemand);
      return c.json(shown, replayed ? 200 : 201);
    },
  );

  api.op(
    {
      method: "get",
      path: "/v1/jobs",
      tag: "Jobs",
      scope: "read",
      summary: "List your jobs, newest first",
      query: JobListQuery,
      responses: { 200: { description: "a page of jobs", schema: Page(Job) } },
    },
    async (c, { query }) => {
      const page = await s.jobs.list(withOwner(c.get("principal")), query);
      return c.json({ ...page, data: await withQueue(s.db, page.data, s.config.runnerOnDemand) });
    },
  );

  api.op(
    {
      method: "get",
      path: "/v1/jobs/:id",
      tag: "Jobs",
      scope: "read",
      summary: "Get a job",
      params: { id: "job id" },
      responses: { 200: { description: "the job", schema: Job } },
    },
    async (c) => c.json((await withQueue(s.db, [toJob(await s.jobs.get(c.get("principal"), param(c, "id", JobId)))], s.config.runnerOnDemand))[0]),
  );

  api.op(
    {
      method: "post",
      path: "/v1/jobs/:id/cancel",
      tag: "Jobs",
      scope: "write",
      summary: "Cancel a queued or running job",
      params: { id: "job id" },
      responses: { 200: { description: "the canceled job", schema: Job } },
    },
    async (c) => c.json(await s.jobs.cancel(c.get("principal"), param(c, "id", JobId))),
  );

  api.op(
    {
      method: "get",
      path: "/v1/jobs/:id/events",
      tag: "Jobs",
      scope: "read",
      summary: "Server-sent events of a job's status, progress and logs; resumes after Last-Event-ID; ends when the job does",
      params: { id: "job id" },
      headers: { "Last-Event-ID": "optional; the id of the last event received" },
      responses: { 200: { description: "text/event-stream of JobEvent (id, event type, JSON data)", schema: JobEvent, contentType: "text/event-stream" } },
    },
    async (c) => {
      const id = param(c, "id", JobId);
      const principal = c.get("principal");
      await s.jobs.get(principal, id);
      const lastHeader = c.req.header("last-event-id") ?? c.req.query("last_event_id");
      let last = lastHeader && /^\d+$/.test(lastHeader) ? Number(lastHeader) : 0;
      const close = s.streams.open(principal.keyId ?? principal.owner ?? "anonymous");
      return streamSSE(c, async (stream) => {
        const abort = new AbortController();
        const end = () => {
          abort.abort();
          close();
        };
        stream.onAbort(end);
        // Workers learn of a client that left from the request's signal, not from a write that fails.
        c.req.raw.signal.addEventListener("abort", end);
        try {
          let wrote = Date.now();
          let check = true;
          let queued = false;
          let queueSent = "";
          while (!abort.signal.aborted) {
            if (check) {
              const events = await s.events.after(id, last);
              for (const e of events) {
                await stream.writeSSE({ id: String(e.id), event: e.type, data: JSON.stringify(e) });
                last = e.id;
                wrote = Date.now();
              }
              if (events.length > 0) continue;
              const job = await s.jobs.get(principal, id);
              // A completion still writing its version and event is not the end of the stream yet.
              if (TERMINAL.has(job.status) && !job.completionPending && job.eventSeq <= last) break;
              queued = job.status === "queued";
            }
            if (queued) {
              // Not stored (it changes as other jobs start): a status event that repeats the last id, sent when it changes.
              const queue = s.streams.queueOf(id);
              if (queue && JSON.stringify(queue) !== queueSent) {
                queueSent = JSON.stringify(queue);
                const e = { id: last, type: "status", data: { status: "queued", queue }, created_at: new Date().toISOString() };
                await stream.writeSSE({ event: "status", data: JSON.stringify(e) });
                wrote = Date.now();
              }
            }
            // Idle, a stream reads nothing: the instance's shared poll wakes it when its job moves on or its place in line changes.
            const woke = await s.streams.wait(id, last, Math.max(1, KEEPALIVE_MS - (Date.now() - wrote)), abort.signal);
            check = woke === true;
            if (!woke && !abort.signal.aborted && Date.now() - wrote >= KEEPALIVE_MS) {
              await stream.write(": keepalive\n\n");
              wrote = Date.now();
            }
          }
        } finally {
          close();
        }
      });
    },
  );

  api.op(
    {
      method: "get",
      path: "/v1/jobs/:id/webhooks",
      tag: "Jobs",
      scope: "read",
      summary: "The job's webhook deliveries: state, attempts, last status and error",
      params: { id: "job id" },
      responses: { 200: { description: "deliveries, oldest first", schema: z.object({ data: z.array(WebhookDelivery) }) } },
    },
    async (c) => {
      const id = param(c, "id", JobId);
      await s.jobs.get(c.get("principal"), id);
      return c.json({ data: await s.webhooks.list(id) });
    },
  );

  api.op(
    {
      method: "get",
      path: "/v1/webhooks/secret",
      tag: "Jobs",
      scope: "read",
      summary: "The secret that signs webhooks of jobs created with this key (verify with the SDK's verifyWebhook)",
      responses: { 200: { description: "the signing secret", schema: WebhookSecret } },
    },
    async (c) => {
      const keyId = c.get("principal").keyId;
      if (!keyId) throw new RegistryError("unauthenticated", "send an API key: webhook secrets belong to keys");
      return c.json({ secret: (await webhookSecret(s.db, keyId))! });
    },
  );

  // Runner side.
  api.op(
    {
      method: "post",
      path: "/v1/runner/claim",
      tag: "Runner",
      scope: "runner",
      summary: "Claim a queued job of the given kinds (atomic): owners take turns, each owner's oldest first; 204 when none is claimable",
      body: ClaimRequest,
      responses: { 200: { description: "a claimed job and its lease", schema: Claim }, 204: { description: "no job queued" } },
    },
    async (c, { body }) => {
      await sawRunner(s.db, body.runner_id, body.wait_seconds * 1000);
      const claim = await s.jobs.leases.claimWaiting(body.runner_id, body.kinds, body.lease_seconds, body.wait_seconds * 1000, c.req.raw.signal);
      return claim ? c.json(claim) : c.body(null, 204);
    },
  );

  api.op(
    {
      method: "post",
      path: "/v1/jobs/:id/heartbeat",
      tag: "Runner",
      scope: "runner",
      summary: "Extend the lease and report progress; 409 means stop (lease lost or job canceled)",
      params: { id: "job id" },
      body: Heartbeat,
      responses: { 200: { description: "lease extended", schema: HeartbeatReply } },
    },
    async (c, { body }) => c.json(await s.jobs.leases.heartbeat(param(c, "id", JobId), body)),
  );

  api.op(
    {
      method: "post",
      path: "/v1/jobs/:id/complete",
      tag: "Runner",
      scope: "runner",
      summary: "Complete a job with its result blobs (idempotent; a tune result becomes a new LoRA version)",
      params: { id: "job id" },
      body: Complete,
      responses: { 200: { description: "the finished job", schema: Job } },
    },
    async (c, { body }) => c.json(await s.jobs.completions.complete(param(c, "id", JobId), body.lease_token, body.result)),
  );

  api.op(
    {
      method: "post",
      path: "/v1/jobs/:id/fail",
      tag: "Runner",
      scope: "runner",
      summary: "Fail a job (or requeue it when retryable)",
      params: { id: "job id" },
      body: Fail,
      responses: { 200: { description: "the job", schema: Job } },
    },
    async (c, { body }) =>
      c.json(await s.jobs.leases.fail(param(c, "id", JobId), body.lease_token, body.error, { retryable: body.retryable, release: body.release })),
  );
}
