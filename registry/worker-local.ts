import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApp } from "./app.ts";
import { DbRateLimiter } from "./auth/rate-limit.ts";
import { R2BlobStore, type StreamingHash } from "./blobs/r2-store.ts";
import type { RegistryConfig } from "./config.ts";
import type { Services } from "./context.ts";
import type { Db } from "./db/client.ts";
import { applyD1Migrations, openD1 } from "./db/d1.ts";
import { loadBaseModel } from "./base-model/artifacts.ts";
import { buildWorker } from "./worker-build.ts";
import { workerConfig } from "./worker.ts";
import { parseOverrides, type RegistryOverrides } from "./config-overrides.ts";

const MIGRATIONS = fileURLToPath(new URL("./db/migrations/", import.meta.url));
/** wrangler.toml's; the tests and the benchmark run the Worker under the same date and flags. */
export const COMPATIBILITY_DATE = "2025-09-01";
export const COMPATIBILITY_FLAGS = ["enable_request_signal"];

export interface LocalWorkerOptions {
  /** D1 and R2 persist under HOME/workerd, so a restart over the same home finds its data. */
  home: string;
  /** Passed to the Worker as MOTION_LORA_CONFIG, so only fields RegistryOverrides accepts. */
  config?: Partial<RegistryConfig> | RegistryOverrides;
  port?: number;
  /** More [vars] (RUNNER_WEBHOOK_URL, REGISTRY_URL, …). */
  vars?: Record<string, string>;
  /** Each line the Worker prints (its JSON logs). */
  onLine?: (line: string) => void;
}

export interface LocalWorker {
  url: string;
  /** The registry's services in this process, over the same D1 and R2 (admin tasks, tests). */
  services: Services;
  /** Runs the Worker's cron handler as Cloudflare would at `at` (default now). */
  scheduled(at?: Date): Promise<void>;
  stop(): Promise<void>;
}

let built: Promise<string> | null = null;

/**
 * The Worker build under workerd (Miniflare), with D1 and R2 on local disk and the migrations
 * applied as `wrangler d1 migrations apply` would: the Workers registry without an account.
 */
export async function startLocalWorker(o: LocalWorkerOptions): Promise<LocalWorker> {
  const { Miniflare } = await import("miniflare");
  // One build per process, outside the tree, so parallel test processes never share the file.
  built ??= buildWorker(join(tmpdir(), `motion-lora-worker-${process.pid}.js`)).then((b) => b.outfile);
  const scriptPath = await built;
  const lines = (stream: NodeJS.ReadableStream) => {
    let rest = "";
    stream.on("data", (b: Buffer) => {
      const all = (rest + b.toString()).split("\n");
      rest = all.pop()!;
      for (const line of all) if (line.trim()) o.onLine?.(line);
    });
  };
  // Locally a client's CF-Connecting-IP reaches the Worker as sent (no edge replaces it): not trusted unless configured.
  const config = { trustCfConnectingIp: false, ...o.config };
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    modulesRoot: dirname(scriptPath),
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    host: "127.0.0.1",
    port: o.port ?? 0,
    d1Databases: ["DB"],
    r2Buckets: ["BLOBS"],
    d1Persist: join(o.home, "workerd", "d1"),
    r2Persist: join(o.home, "workerd", "r2"),
    bindings: { MOTION_LORA_CONFIG: JSON.stringify(config), ...o.vars },
    handleRuntimeStdio(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) {
      lines(stdout);
      lines(stderr);
    },
  });
  try {
    const url = (await mf.ready).origin;
    const d1 = (await mf.getD1Database("DB")) as never;
    await applyD1Migrations(d1, migrations());
    const db = openD1(d1);
    const baseModel = loadBaseModel();
    const { services } = createApp({
      db,
      store: new R2BlobStore((await mf.getR2Bucket("BLOBS")) as never, { hash: nodeHash }),
      config: workerConfig(config, baseModel, o.vars?.REGISTRY_URL, o.vars?.RUNNER_WEBHOOK_URL),
      limiter: new DbRateLimiter(db, o.config?.rateLimitLeaseShare),
      webhookDelivery: "on-demand",
      log: () => {},
    });
    const scheduled = async (at = new Date()) => {
      await (await mf.getWorker()).scheduled({ cron: "* * * * *", scheduledTime: at });
    };
    return { url, services, scheduled, stop: () => mf.dispose() };
  } catch (e) {
    await mf.dispose().catch(() => {});
    throw e;
  }
}

/**
 * The local Worker's D1 database (under HOME/workerd, as `npm run dev:worker` keeps it), opened in
 * this process through Miniflare's own storage, with the migrations applied: how `keys create
 * --worker` makes keys for it, whether or not the Worker is running.
 */
export async function openLocalWorkerDb(home: string): Promise<{ db: Db; close: () => Promise<void> }> {
  const { Miniflare } = await import("miniflare");
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch: () => new Response(null, { status: 404 }) }",
    compatibilityDate: COMPATIBILITY_DATE,
    d1Databases: ["DB"],
    d1Persist: join(home, "workerd", "d1"),
  });
  try {
    const d1 = (await mf.getD1Database("DB")) as never;
    await applyD1Migrations(d1, migrations());
    return { db: openD1(d1), close: () => mf.dispose() };
  } catch (e) {
    await mf.dispose().catch(() => {});
    throw e;
  }
}

const migrations = () =>
  readdirSync(MIGRATIONS)
    .filter((f) => f.endsWith(".sql"))
    .map((name) => ({ name, sql: readFileSync(join(MIGRATIONS, name), "utf8") }));

/** What `npm run dev:worker` prints once it listens: where it is, and how to attach a runner and make keys (the Worker starts none). */
export function devWorkerBanner(url: string, home: string, runnerToken: string | null): string {
  const token = runnerToken ?? "<a runner key>";
  return [
    `motion-lora registry on workerd (D1 + R2 in ${home}/workerd) at ${url}`,
    'No runner is started here: jobs wait as "queued" (no runner connected) until one is attached. In another terminal:',
    ...(runnerToken
      ? []
      : [`  MOTION_LORA_HOME=${home} npx motion-lora keys create --worker --owner runner --scope runner   # a runner key in this Worker's D1`]),
    `  MOTION_LORA_TOKEN=${token} npx motion-lora runner start --registry ${url}`,
    `Keys for people: MOTION_LORA_HOME=${home} npx motion-lora keys create --worker --owner NAME (add --scope admin for an admin).`,
  ].join("\n");
}

function nodeHash(): StreamingHash {
  const h = createHash("sha256");
  return { update: (c) => void h.update(c), hex: async () => h.digest("hex") };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const home = process.env.MOTION_LORA_HOME ?? ".motion-lora";
  // The operator's settings, checked as the deployed Worker checks them (a bad one stops here).
  const config = parseOverrides(process.env.MOTION_LORA_CONFIG, "MOTION_LORA_CONFIG");
  const w = await startLocalWorker({
    home,
    config,
    port: Number(process.env.PORT ?? 8788),
    // LOG_LEVEL=debug shows the idle polls of runners too.
    ...(process.env.LOG_LEVEL && { vars: { LOG_LEVEL: process.env.LOG_LEVEL } }),
    onLine: (l) => console.log(l),
  });
  // A fresh local database has no key to make the first one with: make an admin key and a runner key, shown once.
  const { apiKeys } = await import("./db/schema.ts");
  const { createKey } = await import("./auth/keys.ts");
  let runnerToken: string | null = null;
  if ((await w.services.db.select({ id: apiKeys.id }).from(apiKeys).limit(1)).length === 0) {
    const limit = w.services.config.defaultRateLimitPerMinute;
    const k = await createKey(w.services.db, { owner: "admin", name: "local", scopes: ["admin"] }, limit);
    runnerToken = (await createKey(w.services.db, { owner: "runner", name: "local runner", scopes: ["runner"] }, limit)).token;
    console.error(`admin key for this local Worker (shown once): ${k.token}`);
  }
  console.error(devWorkerBanner(w.url, home, runnerToken));
  const stop = () => w.stop().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
