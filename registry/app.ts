import { sql } from "drizzle-orm";
import { Hono, type Context } from "hono";
import { cors } from "hono/cors";
import type { ErrorBody } from "../sdk/schema/index.ts";
import { authAndRateLimit } from "./auth/middleware.ts";
import { MemoryRateLimiter, type RateLimiter } from "./auth/rate-limit.ts";
import { keyRoutes } from "./auth/routes.ts";
import { blobRoutes } from "./blobs/routes.ts";
import { BlobService } from "./blobs/service.ts";
import type { BlobStore } from "./blobs/store.ts";
import { defaultConfig, type RegistryConfig } from "./config.ts";
import type { AppEnv, Services } from "./context.ts";
import type { Db } from "./db/client.ts";
import { RegistryError } from "./http/errors.ts";
import { newId } from "./ids.ts";
import { JobEventLog } from "./jobs/events.ts";
import { JobQueue } from "./jobs/queue.ts";
import { jobRoutes } from "./jobs/routes.ts";
import { StreamWatch } from "./jobs/stream-watch.ts";
import { loraRoutes } from "./loras/routes.ts";
import { modelRoutes } from "./base-model/routes.ts";
import { VersionPublisher } from "./loras/publish.ts";
import { LoraService } from "./loras/service.ts";
import { Api } from "./openapi/api.ts";
import { docsPage } from "./openapi/docs-page.ts";
import { referenceRoutes, type ReferenceAsset } from "./openapi/reference.ts";
import { galleryRoutes } from "./gallery/routes.ts";
import type { WebhookSender } from "./webhooks/send.ts";
import type { Resolve } from "./webhooks/url.ts";
import { WebhookService } from "./webhooks/service.ts";
import { openApiDocument } from "./openapi/document.ts";

export const API_VERSION = "1.0.0";

export interface AppDeps {
  db: Db;
  store: BlobStore;
  config?: Partial<RegistryConfig>;
  /** One structured log line per request; defaults to JSON on stdout. */
  log?: (line: Record<string, unknown>) => void;
  /** The client's network address, for anonymous rate limits (runtime-specific). */
  clientAddress?: (c: Context) => string;
  /** Resolves a webhook host to its addresses, so private targets are refused (null: literal IPs only). */
  resolveHost?: Resolve | null;
  /** Sends webhook POSTs; node.ts passes one that connects only to the addresses it checked. */
  sendWebhook?: WebhookSender;
  /** The gallery's "Try it" script (the SDK bundled for browsers); without it LoRA pages have no panel. */
  galleryScript?: () => Promise<string>;
  /** Swagger UI's files for /docs (swagger-ui-dist); without them /docs says what to install. */
  referenceAsset?: (name: ReferenceAsset) => Promise<Uint8Array | null>;
  /** How webhooks go out: a background pump in this process (default), or passes the runtime runs (`WebhookService.deliverDue`). */
  webhookDelivery?: "pump" | "on-demand";
  /** Rate-limit buckets; in this process's memory by default, in the database where instances share them (Workers). */
  limiter?: RateLimiter;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Builds the registry app from its storage; runtime entries (node.ts, worker.ts) only create the storage. */
export function createApp(deps: AppDeps) {
  const config = { ...defaultConfig, ...deps.config };
  const log = deps.log ?? ((line) => console.log(JSON.stringify(line)));
  const services = buildServices(
    deps.db,
    deps.store,
    config,
    deps.resolveHost ?? null,
    log,
    deps.sendWebhook,
    deps.limiter ?? new MemoryRateLimiter(),
    deps.webhookDelivery ?? "pump",
  );

  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : newId("req");
    c.set("requestId", requestId);
    const t0 = performance.now();
    await next();
    c.res.headers.set("x-request-id", requestId);
    // A runner's long-poll that found no work is the registry idling: debug, not news.
    const idlePoll = c.req.routePath === "/v1/runner/claim" && c.res.status === 204;
    log({
      ts: new Date().toISOString(),
      level: idlePoll ? "debug" : "info",
      requestId,
      method: c.req.method,
      route: c.req.routePath,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - t0) * 100) / 100,
      key: c.get("principal")?.keyId ?? null,
    });
  });

  app.onError((err, c) => {
    const requestId = c.get("requestId") ?? "unknown";
    if (err instanceof RegistryError) {
      const body: ErrorBody = { error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }), requestId } };
      // An oversized upload is refused mid-body: closing the connection stops the client's send
      // instead of letting the server drain the rest to keep the socket alive.
      const refusedMidBody = err.code === "payload_too_large" || err.code === "quota_exceeded";
      const headers = refusedMidBody ? { ...err.headers, Connection: "close" } : err.headers;
      return c.json(body, err.status as 400, headers);
    }
    log({ ts: new Date().toISOString(), requestId, level: "error", error: String(err), stack: (err as Error).stack });
    const body: ErrorBody = { error: { code: "internal_error", message: `internal error; report request id ${requestId}`, requestId } };
    return c.json(body, 500);
  });

  app.notFound((c) => {
    throw new RegistryError("not_found", `no route for ${c.req.method} ${c.req.path}; see /docs`);
  });

  app.get("/healthz", async (c) => {
    await services.db.run(sql`select 1`);
    return c.json({ ok: true, version: API_VERSION });
  });

  // Browsers call the API with bearer tokens (no cookies), so any origin may; errors carry CORS too.
  app.use(
    "/v1/*",
    cors({
      origin: config.corsOrigins,
      allowHeaders: ["authorization", "content-type", "idempotency-key", "last-event-id", "x-request-id", "range", "if-none-match", "if-range"],
      exposeHeaders: ["x-request-id", "retry-after", "etag", "content-range", "accept-ranges"],
      maxAge: 600,
    }),
  );

  const clientAddress = (c: Context) => deps.clientAddress?.(c) ?? "unknown";
  app.use("/v1/*", authAndRateLimit(services, clientAddress));

  const api = new Api(app);
  keyRoutes(api, services);
  loraRoutes(api, services);
  blobRoutes(api, services);
  jobRoutes(api, services);
  modelRoutes(api, services);

  const m = config.baseModel;
  const openapi = openApiDocument(api.operations, API_VERSION, {
    blobBytes: config.blobLimits,
    ownerQuotaBytes: config.ownerQuotaBytes,
    loraHeaderBytes: config.loraMaxHeaderBytes,
    loraTensors: services.blobs.loraHeaderLimits.maxTensors!,
    loraMetadataBytes: config.loraMaxMetadataBytes,
    baseModel: { id: m.id, sha256: m.sha256, depth: m.depth, dim: m.dim, projections: m.projections, maxRank: m.maxRank },
    failedAuthPerMinute: config.failedAuthPerMinute,
    failedAuthPerAddressPerMinute: config.failedAuthPerAddressPerMinute,
    webhooks: {
      timeoutMs: config.webhooks.timeoutMs,
      connectTimeoutMs: config.webhooks.connectTimeoutMs,
      perTenantConcurrency: config.webhooks.perTenantConcurrency,
      maxAttempts: config.webhooks.maxAttempts,
    },
  });
  app.get("/openapi.json", (c) => c.json(openapi));
  referenceRoutes(app, docsPage(api.operations, openapi), deps.referenceAsset ?? (async () => null));
  galleryRoutes(app, services, clientAddress, deps.galleryScript);

  return { app, services, openapi };
}

function buildServices(
  db: Db,
  store: BlobStore,
  config: RegistryConfig,
  resolve: Resolve | null,
  log: (l: Record<string, unknown>) => void,
  send: WebhookSender | undefined,
  limiter: RateLimiter,
  webhookDelivery: "pump" | "on-demand",
): Services {
  const webhooks = new WebhookService(db, config.webhooks, resolve, log, send, webhookDelivery);
  const events = new JobEventLog(db, (...e) => webhooks.onEvent(...e));
  const blobs = new BlobService(db, store, config);
  const loras = new LoraService(db, config.readCacheTtlMs);
  const publisher = new VersionPublisher(db, loras, blobs, store, config.baseModel);
  const jobs = new JobQueue(db, loras, publisher, blobs, events, webhooks, config.baseModel, config.maxAttempts, {
    maxQueued: config.maxQueuedJobsPerOwner,
    maxRunning: config.maxRunningJobsPerOwner ?? Number.MAX_SAFE_INTEGER,
  });
  const streams = new StreamWatch(db, events, config.streamPollMs, config.maxStreamsPerKey, config.runnerOnDemand);
  return { db, store, config, blobs, loras, publisher, jobs, events, streams, limiter, webhooks };
}
