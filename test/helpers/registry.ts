import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { createApp } from "../../registry/app.ts";
import { createKey } from "../../registry/auth/keys.ts";
import { DbRateLimiter } from "../../registry/auth/rate-limit.ts";
import { R2BlobStore } from "../../registry/blobs/r2-store.ts";
import type { RegistryConfig } from "../../registry/config.ts";
import { applyD1Migrations, openD1 } from "../../registry/db/d1.ts";
import { loadBaseModel, startRegistry, type StartOptions } from "../../registry/node.ts";
import type { Services } from "../../registry/context.ts";
import { buildWorker } from "../../registry/worker-build.ts";
import { WORKER_DEFAULTS } from "../../registry/worker.ts";
import type { Scope } from "../../sdk/schema/index.ts";

/**
 * Which registry the suite runs against: `node` (Node + libsql + files, the embedded default) or
 * `workerd` (the Worker build under Miniflare's workerd, with D1 and R2). test/run.mjs runs the
 * registry's tests once per target.
 */
export const TARGET: "node" | "workerd" = process.env.MOTION_LORA_TEST_TARGET === "workerd" ? "workerd" : "node";

/** Skips a case that is about one target's machinery (files on disk, one process's memory); says why. */
export function onlyOn(t: TestContext, target: "node" | "workerd", why: string): boolean {
  if (TARGET === target) return false;
  t.skip(`${target} only: ${why}`);
  return true;
}

export interface TestRegistry {
  target: "node" | "workerd";
  url: string;
  home: string;
  admin: string;
  /** In-process services over the same database and blob store (on workerd: D1 and R2 through Miniflare). */
  services: Services;
  logs: Record<string, unknown>[];
  key(owner: string, scopes?: Scope[], rate?: number): Promise<string>;
  call(method: string, path: string, opts?: CallOptions): Promise<Reply>;
  stop(): Promise<void>;
}

export interface CallOptions {
  token?: string;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
}

export interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON replies by path (res.body.error.code); unknown would need a cast at each of hundreds of reads
  body: any;
  bytes: Uint8Array;
}

export interface TestOptions {
  /** Reuse a home (a restart over the same database and blobs); `stop` then leaves it in place. */
  home?: string;
  /** Node only: how webhook hosts resolve. */
  resolveHost?: StartOptions["resolveHost"];
}

/** A real registry on an ephemeral loopback port over a fresh temporary directory, on TARGET. */
export async function startTestRegistry(config: Partial<RegistryConfig> = {}, opts: TestOptions = {}): Promise<TestRegistry> {
  const home = opts.home ?? (await mkdtemp(join(tmpdir(), "motion-lora-test-")));
  const logs: Record<string, unknown>[] = [];
  const running = TARGET === "workerd" ? await startWorkerd(home, config, logs) : await startNode(home, config, logs, opts);
  const key = async (owner: string, scopes: Scope[] = ["read", "write"], rate?: number) =>
    (await createKey(running.services.db, { owner, name: "test", scopes, ...(rate ? { rate_limit_per_minute: rate } : {}) }, 100_000)).token;
  const admin = await key("admin", ["admin"]);
  return {
    target: TARGET,
    url: running.url,
    home,
    admin,
    services: running.services,
    logs,
    key,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let body = opts.body;
      if (opts.json !== undefined) {
        body = JSON.stringify(opts.json);
        headers["content-type"] = "application/json";
      }
      const res = await fetch(running.url + path, { method, headers, ...(body === undefined ? {} : { body, duplex: "half" }) } as RequestInit);
      const bytes = new Uint8Array(await res.arrayBuffer());
      let parsed: unknown;
      if (res.headers.get("content-type")?.includes("json")) parsed = JSON.parse(new TextDecoder().decode(bytes));
      return { status: res.status, headers: res.headers, body: parsed, bytes };
    },
    async stop() {
      await running.stop();
      if (!opts.home) await rm(home, { recursive: true, force: true });
    },
  };
}

interface Running {
  url: string;
  services: Services;
  stop(): Promise<void>;
}

async function startNode(home: string, config: Partial<RegistryConfig>, logs: Record<string, unknown>[], opts: TestOptions): Promise<Running> {
  const r = await startRegistry({
    home,
    port: 0,
    host: "127.0.0.1",
    log: (l) => logs.push(l),
    config,
    ...(opts.resolveHost ? { resolveHost: opts.resolveHost } : {}),
  });
  return { url: r.url, services: r.services, stop: () => r.stop() };
}

const MIGRATIONS = new URL("../../registry/db/migrations/", import.meta.url).pathname;
let built: Promise<string> | null = null;

async function startWorkerd(home: string, config: Partial<RegistryConfig>, logs: Record<string, unknown>[]): Promise<Running> {
  const { Miniflare } = await import("miniflare");
  // One build per test process, outside the tree: test files run in parallel processes.
  built ??= buildWorker(join(tmpdir(), `motion-lora-worker-${process.pid}.js`)).then((b) => b.outfile);
  const collect = (stream: NodeJS.ReadableStream) => {
    let rest = "";
    stream.on("data", (b: Buffer) => {
      const lines = (rest + b.toString()).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith("{")) {
          if (line.trim()) console.error(`[workerd] ${line}`);
          continue;
        }
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {}
      }
    });
  };
  const scriptPath = await built;
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    modulesRoot: dirname(scriptPath),
    compatibilityDate: "2025-09-01",
    compatibilityFlags: ["enable_request_signal"],
    host: "127.0.0.1",
    port: 0,
    d1Databases: ["DB"],
    r2Buckets: ["BLOBS"],
    d1Persist: join(home, "workerd", "d1"),
    r2Persist: join(home, "workerd", "r2"),
    bindings: { MOTION_LORA_CONFIG: JSON.stringify(config) },
    handleRuntimeStdio(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) {
      collect(stdout);
      collect(stderr);
    },
  });
  const url = await mf.ready.then(
    (u) => u.origin,
    async (e: unknown) => {
      await mf.dispose().catch(() => {});
      throw e;
    },
  );
  const d1 = (await mf.getD1Database("DB")) as never;
  const migrations = readdirSync(MIGRATIONS)
    .filter((f) => f.endsWith(".sql"))
    .map((name) => ({ name, sql: readFileSync(join(MIGRATIONS, name), "utf8") }));
  await applyD1Migrations(d1, migrations);
  const db = openD1(d1);
  const store = new R2BlobStore((await mf.getR2Bucket("BLOBS")) as never, { hash: nodeHash });
  const baseModel = loadBaseModel();
  const { services } = createApp({
    db,
    store,
    config: { ...WORKER_DEFAULTS, ...(baseModel ? { baseModel } : {}), ...config },
    limiter: new DbRateLimiter(db),
    log: () => {},
  });
  return { url, services, stop: () => mf.dispose() };
}

function nodeHash() {
  const h = createHash("sha256");
  return { update: (c: Uint8Array) => void h.update(c), hex: async () => h.digest("hex") };
}
