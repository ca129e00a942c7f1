import type { D1Database, ExecutionContext, R2Bucket, ScheduledController } from "@cloudflare/workers-types/latest/index.ts";
import type { Context } from "hono";
import { createApp, type AppDeps } from "./app.ts";
import { DbRateLimiter } from "./auth/rate-limit.ts";
import type { BaseModelSpec } from "./base-model/spec.ts";
import { R2BlobStore, type StreamingHash } from "./blobs/r2-store.ts";
import { defaultConfig, type RegistryConfig } from "./config.ts";
import { applyOverrides, ConfigError, parseOverrides, type RegistryOverrides } from "./config-overrides.ts";
import { openD1 } from "./db/d1.ts";
import { newId } from "./ids.ts";
import { forgetRunners } from "./jobs/queue-position.ts";
import { defaultWebhookConfig } from "./webhooks/config.ts";
import { DEFAULT_DOH_URL, dohResolver } from "./webhooks/doh.ts";
import type { ReferenceAsset } from "./openapi/reference.ts";
import { askForRunner } from "./runners/runner-webhook.ts";

/** The bindings wrangler.toml declares. */
export interface Env {
  DB: D1Database;
  BLOBS: R2Bucket;
  /** JSON of RegistryConfig fields that override the Workers defaults (a [vars] entry). */
  MOTION_LORA_CONFIG?: string;
  /** Where queued jobs ask a platform to start a runner ("runner.needed"), and the secret that signs it. */
  RUNNER_WEBHOOK_URL?: string;
  RUNNER_WEBHOOK_SECRET?: string;
  /** The registry's public URL, which "runner.needed" tells runners to claim from (default: the request's origin). */
  REGISTRY_URL?: string;
  /** The DNS-over-HTTPS (JSON) endpoint that webhook hosts are resolved with (default: Cloudflare's). */
  WEBHOOK_DOH_URL?: string;
  /** "debug" also logs what the registry does when idle (a runner's long poll that found no job); other records always. */
  LOG_LEVEL?: string;
}

/** What the build (registry/worker-build.ts) bakes in, since a Worker reads no files. */
export interface WorkerBuild {
  baseModel: BaseModelSpec | null;
  galleryScript: string;
  referenceAssets: Partial<Record<ReferenceAsset, string>>;
}

const MiB = 1024 * 1024;

/**
 * Workers' limits, not the Node registry's: a request body is at most 100 MB (Free and Pro plans),
 * so a blob must fit in one request (multipart is how R2 stores it, not how clients send it). An
 * invocation has 6 connections open at once and 50 subrequests on the Free plan (D1 queries
 * included), so a webhook pass sends 6 at a time and a drain spends 30, leaving 20 for the request
 * that queued it (creating a job made 4 queries in registry/webhooks/budget.test.ts). Paid plans may raise
 * `webhooks.subrequestsPerDrain` in MOTION_LORA_CONFIG.
 */
export const WORKER_DEFAULTS = {
  blobLimits: { lora: 95 * MiB, video: 64 * MiB, preview: 16 * MiB },
  // On Cloudflare the edge sets it on every request, replacing whatever the client sent.
  trustCfConnectingIp: true,
  webhooks: { ...defaultWebhookConfig, concurrency: 6, subrequestsPerDrain: 30 },
} satisfies Partial<RegistryConfig>;

/**
 * The Worker's config: its defaults, then the operator's overrides (blob limits and webhook fields one
 * by one, so setting one keeps the rest). A Worker starts no runner itself; with `runnerWebhookUrl`
 * (RUNNER_WEBHOOK_URL) it asks a platform for one, which queued jobs' standings then say.
 */
export function workerConfig(overrides: RegistryOverrides, baseModel: BaseModelSpec | null, registryUrl?: string, runnerWebhookUrl?: string): RegistryConfig {
  if (overrides.trustedProxies !== undefined) {
    throw new ConfigError(
      "MOTION_LORA_CONFIG: trustedProxies: a Worker has no socket to check a proxy by; Cloudflare's edge sets CF-Connecting-IP (trustCfConnectingIp)",
    );
  }
  const publicUrl = registryUrl ? { publicUrl: registryUrl.replace(/\/+$/, "") } : {};
  const runnerOnDemand = runnerWebhookUrl ? ("webhook" as const) : null;
  return { ...applyOverrides({ ...defaultConfig, ...WORKER_DEFAULTS, ...(baseModel ? { baseModel } : {}), ...publicUrl }, overrides), runnerOnDemand };
}

/** Workers' streaming SHA-256 (crypto.DigestStream: native, so hashing costs no request CPU time in JS). */
function digestStream(): StreamingHash {
  const ds = new (crypto as unknown as { DigestStream: new (alg: string) => WritableStream<Uint8Array> & { digest: Promise<ArrayBuffer> } }).DigestStream(
    "SHA-256",
  );
  const writer = ds.getWriter();
  let last: Promise<void> = Promise.resolve();
  return {
    update(chunk) {
      last = writer.write(chunk);
    },
    async hex() {
      await last;
      await writer.close();
      return [...new Uint8Array(await ds.digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    },
  };
}

/**
 * Where a Worker learns its client's address: Cloudflare's edge sets CF-Connecting-IP on every
 * request, replacing any the client sent. Local workerd passes a client's own header through, so
 * there (trust off) every client is "local": one bucket, as loopback clients share 127.0.0.1 on Node.
 */
export const workerClientAddress =
  (trustCfConnectingIp: boolean) =>
  (c: Context): string =>
    trustCfConnectingIp ? (c.req.header("cf-connecting-ip") ?? "unknown") : "local";

/** The Worker's log: JSON lines, leaving out debug records (a runner's idle poll, every 20 s per runner) unless LOG_LEVEL is "debug". */
export const workerLog =
  (level: string | undefined) =>
  (e: Record<string, unknown>): void => {
    if (e.level === "debug" && level !== "debug") return;
    console.log(JSON.stringify(e));
  };

type App = ReturnType<typeof createApp>;

/** The registry as a Worker: the same app as on Node, over D1, R2 and limits shared through D1. */
export function createWorker(build: WorkerBuild) {
  let made: { app: App; limiter: DbRateLimiter; env: Env } | null = null;
  // One app per isolate, built on its first event from the bindings (they are the same for every event).
  const appFor = (env: Env) => {
    if (made?.env === env) return made;
    const config = workerConfig(parseOverrides(env.MOTION_LORA_CONFIG, "MOTION_LORA_CONFIG"), build.baseModel, env.REGISTRY_URL, env.RUNNER_WEBHOOK_URL);
    const db = openD1(env.DB);
    const limiter = new DbRateLimiter(db, config.rateLimitLeaseShare);
    const assets = new Map(Object.entries(build.referenceAssets).map(([k, v]) => [k, new TextEncoder().encode(v)]));
    const deps: AppDeps = {
      db,
      store: new R2BlobStore(env.BLOBS, { hash: digestStream }),
      config,
      limiter,
      webhookDelivery: "on-demand",
      // fetch cannot be handed a resolver: names are judged by what DNS-over-HTTPS says, at job
      // creation and again before each delivery (fetch then resolves on its own: see decision 18).
      resolveHost: dohResolver(env.WEBHOOK_DOH_URL ?? DEFAULT_DOH_URL),
      clientAddress: workerClientAddress(config.trustCfConnectingIp),
      galleryScript: async () => build.galleryScript,
      referenceAsset: async (name) => assets.get(name) ?? null,
      log: workerLog(env.LOG_LEVEL),
    };
    made = { app: createApp(deps), limiter, env };
    return made;
  };

  /** Asks the platform for a runner when jobs wait and none holds a lease, at most twice a minute across isolates. */
  const maybeAskForRunner = async (app: App, env: Env, limiter: DbRateLimiter, registryUrl: string) => {
    if (!env.RUNNER_WEBHOOK_URL) return;
    const { queued, leased } = await app.services.jobs.leases.load();
    if (queued === 0 || leased > 0) return;
    if ((await limiter.take("runner-needed", 2, Date.now())) > 0) return;
    const log = (e: Record<string, unknown>) => console.log(JSON.stringify({ ts: new Date().toISOString(), ...e }));
    await askForRunner({ url: env.RUNNER_WEBHOOK_URL, ...(env.RUNNER_WEBHOOK_SECRET ? { secret: env.RUNNER_WEBHOOK_SECRET } : {}) }, registryUrl, queued, log);
  };

  return {
    async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
      let built: ReturnType<typeof appFor>;
      try {
        built = appFor(env);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        // Every request says so, in the API's error shape, until the deployment is fixed.
        const requestId = newId("req");
        const message = `the registry is misconfigured: ${e.message}. Fix the [vars] entry in wrangler.toml and redeploy.`;
        console.error(JSON.stringify({ ts: new Date().toISOString(), level: "error", msg: message, code: e.code }));
        return Response.json({ error: { code: "internal_error", message, requestId } }, { status: 500, headers: { "x-request-id": requestId } });
      }
      const { app, limiter } = built;
      const res = await app.app.fetch(request, env, ctx as never);
      // Only writes queue job events: the deliveries they queued go out after the response, within
      // waitUntil's grace; what fails or does not finish is retried by the cron (the table is the queue).
      if (request.method !== "GET" && request.method !== "HEAD") ctx.waitUntil(app.services.webhooks.drain(25_000).catch(() => {}));
      if (request.method === "POST" && new URL(request.url).pathname === "/v1/jobs" && res.status < 300) {
        ctx.waitUntil(maybeAskForRunner(app, env, limiter, env.REGISTRY_URL ?? new URL(request.url).origin).catch(() => {}));
      }
      return res;
    },

    /** Every minute (wrangler.toml's cron): what the Node registry does on timers. */
    async scheduled(controller: ScheduledController, env: Env): Promise<void> {
      const { app, limiter } = appFor(env);
      const s = app.services;
      const log = (e: Record<string, unknown>) => console.log(JSON.stringify({ ts: new Date().toISOString(), ...e }));
      const now = controller.scheduledTime;
      const tasks: Promise<unknown>[] = [
        s.jobs.leases.reap(now),
        s.jobs.completions.finishPending(log),
        s.webhooks.drain(50_000),
        limiter.sweep(now),
        ...(env.REGISTRY_URL ? [maybeAskForRunner(app, env, limiter, env.REGISTRY_URL)] : []),
      ];
      // Blob GC lists the whole bucket: once an hour is enough (the Node registry's schedule).
      if (new Date(now).getUTCMinutes() === 0) tasks.push(s.blobs.collectOrphans(now), s.blobs.collectUnreferenced(now), forgetRunners(s.db, now));
      const results = await Promise.allSettled(tasks);
      for (const r of results) if (r.status === "rejected") log({ level: "error", msg: "scheduled task failed", error: String(r.reason) });
    },
  };
}
