import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { createKey } from "../../registry/auth/keys.ts";
import type { RegistryConfig } from "../../registry/config.ts";
import type { Services } from "../../registry/context.ts";
import { startRegistry, type StartOptions } from "../../registry/node.ts";
import { startLocalWorker } from "../../registry/worker-local.ts";
import { startDohServer } from "./doh-server.ts";
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
  /**
   * How webhook hosts resolve: on Node the registry calls it; on workerd the Worker asks a
   * DNS-over-HTTPS server on loopback that answers from it (without it, every name fails to resolve).
   */
  resolveHost?: StartOptions["resolveHost"];
  /**
   * Where the registry asks a platform for a runner ("runner.needed") while jobs wait and none is
   * connected: Node's `--runner webhook`, the Worker's RUNNER_WEBHOOK_URL. Without it neither asks.
   */
  runnerWebhookUrl?: string;
  /** Node only (a Worker starts no runner): `npm start`'s runner, a local CPU runner started on demand. */
  localRunner?: boolean;
}

/** A real registry on an ephemeral loopback port over a fresh temporary directory, on TARGET. */
export async function startTestRegistry(config: Partial<RegistryConfig> = {}, opts: TestOptions = {}): Promise<TestRegistry> {
  const home = opts.home ?? (await mkdtemp(join(tmpdir(), "motion-lora-test-")));
  const logs: Record<string, unknown>[] = [];
  const running = TARGET === "workerd" ? await startWorkerd(home, config, logs, opts) : await startNode(home, config, logs, opts);
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
    ...(opts.localRunner ? { runner: "local" as const } : opts.runnerWebhookUrl ? { runner: "webhook" as const, runnerWebhookUrl: opts.runnerWebhookUrl } : {}),
  });
  return { url: r.url, services: r.services, stop: () => r.stop() };
}

async function startWorkerd(home: string, config: Partial<RegistryConfig>, logs: Record<string, unknown>[], opts: TestOptions): Promise<Running> {
  if (opts.localRunner) throw new Error("a Worker starts no local runner: skip this case on workerd (onlyOn)");
  // Never Cloudflare's resolver from a test: the Worker resolves webhook hosts here, on loopback.
  const doh = await startDohServer(opts.resolveHost);
  const w = await startLocalWorker({
    home,
    config,
    vars: { WEBHOOK_DOH_URL: doh.url, ...(opts.runnerWebhookUrl ? { RUNNER_WEBHOOK_URL: opts.runnerWebhookUrl } : {}) },
    onLine(line) {
      if (!line.startsWith("{")) return void console.error(`[workerd] ${line}`);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {}
    },
  }).catch(async (e) => {
    await doh.close();
    throw e;
  });
  return { url: w.url, services: w.services, stop: () => w.stop().finally(() => doh.close()) };
}
