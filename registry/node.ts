import { serve } from "@hono/node-server";
import { lookup } from "node:dns/promises";
import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { forgetRunners } from "./jobs/queue-position.ts";
import { createApp, type AppDeps } from "./app.ts";
import { nodeClientAddress } from "./auth/client-address.ts";
import { nodeConfig, readNodeOverrides } from "./node-config.ts";
import type { ReferenceAsset } from "./openapi/reference.ts";
import { galleryScript } from "./gallery/bundle.ts";
import { FsBlobStore } from "./blobs/fs-store.ts";
import { openSqlite } from "./db/open.ts";
import { loadBaseModel } from "./base-model/artifacts.ts";
import { ConfigError, PublicUrl } from "./config-overrides.ts";
import { nodeWebhookSender } from "./webhooks/node-sender.ts";
import type { Resolve } from "./webhooks/url.ts";
import { localRunnerToken } from "./runners/token.ts";
import { RunnerSupervisor, type RunnerMode } from "./runners/supervisor.ts";

/** Where the embedded registry keeps its SQLite file and blobs. */
export const homeDir = () => resolve(process.env.MOTION_LORA_HOME ?? ".motion-lora");

const require = createRequire(import.meta.url);
/** Swagger UI's files from the installed swagger-ui-dist package, read once each (the bundle is 1.7 MB). */
const assets = new Map<ReferenceAsset, Promise<Uint8Array | null>>();
const referenceAsset = (name: ReferenceAsset) => {
  if (!assets.has(name)) {
    const path = join(dirname(require.resolve("swagger-ui-dist/package.json")), name);
    assets.set(
      name,
      readFile(path).then(
        (b) => new Uint8Array(b),
        () => null,
      ),
    );
  }
  return assets.get(name)!;
};

/** An operator's public URL, or a ConfigError naming where it came from. */
export function parsePublicUrl(value: string, source: string): string {
  const r = PublicUrl.safeParse(value);
  if (!r.success) throw new ConfigError(`${source} ${r.error.issues[0]!.message}, not '${value}'`);
  return r.data;
}

const systemResolve: Resolve = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

export interface StartOptions {
  home?: string;
  port?: number;
  host?: string;
  log?: AppDeps["log"];
  config?: AppDeps["config"];
  /** Who runs queued jobs: a local runner started on demand, a webhook to a platform, or nobody (external runners). */
  runner?: RunnerMode;
  runnerWebhookUrl?: string;
  runnerWebhookSecret?: string;
  runnerIdleExitSeconds?: number;
  /** How webhook hosts resolve (default: the system resolver); the webhook sender connects only to what this returns. */
  resolveHost?: Resolve;
  /** The operator's settings as a JSON file (`registry start --config`); else MOTION_LORA_CONFIG, if set. */
  configFile?: string;
  /** Where MOTION_LORA_CONFIG is read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Starts the registry on Node with SQLite + local blobs (the embedded default). */
export async function startRegistry(opts: StartOptions = {}) {
  // First, so a wrong setting stops start-up before the home, the database or a blob is touched.
  const overrides = readNodeOverrides(opts.configFile, opts.env);
  const env = opts.env ?? process.env;
  const publicUrl = env.MOTION_LORA_PUBLIC_URL ? parsePublicUrl(env.MOTION_LORA_PUBLIC_URL, "MOTION_LORA_PUBLIC_URL") : undefined;
  const home = opts.home ?? homeDir();
  mkdirSync(home, { recursive: true });
  const { db, close } = await openSqlite(join(home, "registry.db"));
  const store = new FsBlobStore(home);
  const resolveHost = opts.resolveHost ?? systemResolve;
  const baseModel = opts.config?.baseModel ?? loadBaseModel();
  const mode = opts.runner ?? "off";
  // What a queued job's standing says while no runner is connected: this registry starts one (local) or asks a platform for one (webhook).
  const config = nodeConfig(overrides, { ...(publicUrl ? { publicUrl } : {}), ...opts.config, runnerOnDemand: mode === "off" ? null : mode }, baseModel);
  const { app, services } = createApp({
    db,
    store,
    config,
    ...(opts.log ? { log: opts.log } : {}),
    clientAddress: nodeClientAddress(config.trustedProxies),
    resolveHost,
    sendWebhook: nodeWebhookSender(resolveHost),
    galleryScript,
    referenceAsset,
  });
  // Completions a crash cut off between their commit and their version, event and webhook.
  await services.jobs.completions.finishPending((e) => console.error(JSON.stringify(e)));
  services.webhooks.start();
  const gc = () =>
    Promise.all([services.blobs.collectOrphans(), services.blobs.collectUnreferenced(), forgetRunners(services.db)]).catch((e) =>
      console.error(JSON.stringify({ level: "error", msg: "blob gc failed", error: String(e) })),
    );
  const reap = () => services.jobs.leases.reap().catch((e) => console.error(JSON.stringify({ level: "error", msg: "lease reaper failed", error: String(e) })));
  await gc();
  const timers = [setInterval(gc, 60 * 60 * 1000), setInterval(reap, 5_000)];
  for (const t of timers) t.unref();

  const host = opts.host ?? process.env.HOST ?? "127.0.0.1";
  const port = opts.port ?? Number(process.env.PORT ?? 8787);
  const server = await new Promise<ReturnType<typeof serve>>((ok) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => ok(s));
  });
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  const url = `http://${host}:${actualPort}`;
  // The gallery's snippets name this registry; the port is known only now (0 picks one).
  services.config.publicUrl ??= url;
  const log = opts.log ?? ((e: Record<string, unknown>) => console.error(JSON.stringify({ ts: new Date().toISOString(), ...e })));
  const supervisor = new RunnerSupervisor({
    mode,
    jobs: services.jobs,
    registryUrl: url,
    log,
    env: { MOTION_LORA_HOME: home },
    ...(mode === "local" && { token: await localRunnerToken(db, home, services.config.defaultRateLimitPerMinute) }),
    ...(opts.runnerWebhookUrl && { webhookUrl: opts.runnerWebhookUrl }),
    ...(opts.runnerWebhookSecret && { webhookSecret: opts.runnerWebhookSecret }),
    ...(opts.runnerIdleExitSeconds !== undefined && { idleExitSeconds: opts.runnerIdleExitSeconds }),
  });
  supervisor.start();
  return {
    url,
    services,
    home,
    supervisor,
    async stop() {
      for (const t of timers) clearInterval(t);
      await supervisor.stop();
      await services.webhooks.stop();
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      // Open SSE streams and keep-alive sockets would otherwise hold close() forever.
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await closed;
      close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("registry/node.ts")) {
  const r = await startRegistry();
  console.error(`motion-lora registry listening on ${r.url} (data in ${r.home}); API docs at ${r.url}/docs`);
  const stop = () => r.stop().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
