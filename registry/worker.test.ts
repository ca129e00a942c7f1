import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { sql } from "drizzle-orm";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createKey } from "./auth/keys.ts";
import { applyD1Migrations } from "./db/d1.ts";
import { verifyWebhook } from "../sdk/webhooks/signature.ts";
import { startLocalWorker } from "./worker-local.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" };
const wrangler = (args: string[]) => spawnSync(WRANGLER, args, { cwd: ROOT, env, encoding: "utf8", timeout: 120_000 });

describe("the first admin key on Workers", () => {
  it("keys create --sql prints an INSERT that, run on D1, makes a key the Worker accepts; the token goes to stderr only", async () => {
    const home = await mkdtemp(join(tmpdir(), "motion-lora-d1-key-"));
    const w = await startLocalWorker({ home });
    try {
      const out = spawnSync(process.execPath, [join(ROOT, "bin", "motion-lora.js"), "keys", "create", "--scope", "admin", "--sql"], {
        encoding: "utf8",
        env: { ...process.env, MOTION_LORA_HOME: join(home, "unused") },
      });
      assert.equal(out.status, 0, out.stderr);
      const token = /mlk_\S+/.exec(out.stderr)?.[0];
      assert.ok(token, out.stderr);
      assert.ok(!out.stdout.includes(token), "the token is not in the SQL (only its hash is)");
      assert.match(out.stdout, /^INSERT INTO "api_keys"/);
      await w.services.db.run(sql.raw(out.stdout));
      const res = await fetch(`${w.url}/v1/keys`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200, await res.text());
    } finally {
      await w.stop();
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("the Worker's cron and runner webhook", () => {
  it("asks the platform for a runner when a job is queued, signed with RUNNER_WEBHOOK_SECRET, and its cron puts a job with an expired lease back in the queue", async () => {
    const asked: Record<string, unknown>[] = [];
    const signed: boolean[] = [];
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c));
      req.on("end", () => {
        const headers = { get: (name: string) => (req.headers[name] as string | undefined) ?? null };
        void verifyWebhook(secret, headers, body).then((ok) => {
          signed.push(ok);
          asked.push(JSON.parse(body) as Record<string, unknown>);
          res.writeHead(204).end();
        });
      });
    });
    await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
    const home = await mkdtemp(join(tmpdir(), "motion-lora-cron-"));
    const w = await startLocalWorker({
      home,
      vars: {
        RUNNER_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/start`,
        REGISTRY_URL: "https://registry.example",
        RUNNER_WEBHOOK_SECRET: secret,
      },
    });
    try {
      const alice = (await createKey(w.services.db, { owner: "alice", name: "t", scopes: ["read", "write"] }, 600)).token;
      const runner = (await createKey(w.services.db, { owner: "runner", name: "r", scopes: ["runner"] }, 600)).token;
      const call = async (path: string, token: string, json: unknown) => {
        const res = await fetch(w.url + path, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(json),
        });
        return { status: res.status, body: (await res.json()) as Record<string, never> };
      };
      const job = await call("/v1/jobs", alice, { kind: "generate", input: { prompt: "a red circle on a black background" } });
      assert.equal(job.status, 201);
      for (let i = 0; i < 100 && asked.length === 0; i++) await new Promise((ok) => setTimeout(ok, 50));
      assert.deepEqual(
        asked.map((a) => [a.type, a.queued, a.registry]),
        [["runner.needed", 1, "https://registry.example"]],
      );
      assert.deepEqual(signed, [true], "the platform can verify the request with the shared secret");

      const claim = await call("/v1/runner/claim", runner, { runner_id: "r1", lease_seconds: 5 });
      assert.equal(claim.status, 200);
      const status = async () =>
        ((await (await fetch(`${w.url}/v1/jobs/${job.body.id}`, { headers: { authorization: `Bearer ${alice}` } })).json()) as { status: string }).status;
      assert.equal(await status(), "running");
      await w.scheduled(new Date(Date.now() + 10 * 60_000));
      assert.equal(await status(), "queued", "the cron reaped the expired lease");
    } finally {
      await w.stop();
      receiver.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("the Worker's settings", () => {
  it("answers every request with a 500 naming the wrong MOTION_LORA_CONFIG field, and serves once it is fixed (nothing stored is lost)", async () => {
    const home = await mkdtemp(join(tmpdir(), "motion-lora-config-"));
    let w = await startLocalWorker({ home });
    try {
      const alice = (await createKey(w.services.db, { owner: "alice", name: "t", scopes: ["read", "write"] }, 600)).token;
      const created = await fetch(`${w.url}/v1/loras`, {
        method: "POST",
        headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "kept", title: "Kept", category: "camera-motion" }),
      });
      assert.equal(created.status, 201);
      await w.stop();
      w = await startLocalWorker({ home, vars: { MOTION_LORA_CONFIG: '{"webhook": {"concurrency": 6}, "readCacheTtlMs": "1s"}' } });
      const res = await fetch(`${w.url}/v1/loras/alice/kept`, { headers: { authorization: `Bearer ${alice}` } });
      assert.equal(res.status, 500);
      const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
      assert.equal(body.error.code, "internal_error");
      assert.match(body.error.message, /misconfigured: MOTION_LORA_CONFIG: .*readCacheTtlMs: .*number.*Unrecognized key.*"webhook".*wrangler\.toml/);
      assert.equal(res.headers.get("x-request-id"), body.error.requestId);
      await w.stop();
      w = await startLocalWorker({ home, vars: { MOTION_LORA_CONFIG: '{"webhooks": {"concurrency": 4}}' } });
      const again = await fetch(`${w.url}/v1/loras/alice/kept`, { headers: { authorization: `Bearer ${alice}` } });
      assert.equal(again.status, 200);
    } finally {
      await w.stop();
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("wrangler.toml", () => {
  it("builds and packages the Worker with its D1 and R2 bindings (wrangler deploy --dry-run), within the 3 MB gzipped Free plan limit", async () => {
    const out = await mkdtemp(join(tmpdir(), "motion-lora-wrangler-"));
    try {
      const r = wrangler(["deploy", "--dry-run", "--outdir", out]);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /env\.DB \(motion-lora\)\s+D1 Database/);
      assert.match(r.stdout, /env\.BLOBS \(motion-lora-blobs\)\s+R2 Bucket/);
      const [file] = (await readdir(out)).filter((f) => f.endsWith(".js"));
      const gz = gzipSync(await readFile(join(out, file!))).byteLength;
      assert.ok(gz < 3_000_000, `${gz} bytes gzipped`);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it("applies the migrations with wrangler exactly as the local workerd registry does: the same tables, nothing left for ours to apply", async () => {
    const state = await mkdtemp(join(tmpdir(), "motion-lora-d1-"));
    const { Miniflare } = await import("miniflare");
    let mf: InstanceType<typeof Miniflare> | null = null;
    try {
      const r = wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", state]);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      mf = new Miniflare({
        modules: true,
        script: "export default {}",
        d1Databases: { DB: "00000000-0000-0000-0000-000000000000" },
        d1Persist: join(state, "v3", "d1"),
      });
      const d1 = (await mf.getD1Database("DB")) as never as Parameters<typeof applyD1Migrations>[0];
      const tables = async () =>
        (
          await d1.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf%' ESCAPE '\\' ORDER BY name").all<{ name: string }>()
        ).results.map((t) => t.name);
      const before = await tables();
      assert.ok(before.includes("rate_buckets") && before.includes("jobs"), before.join(", "));
      const dir = join(ROOT, "registry", "db", "migrations");
      const files = (await readdir(dir)).filter((f) => f.endsWith(".sql"));
      const migrations = await Promise.all(files.map(async (name) => ({ name, sql: await readFile(join(dir, name), "utf8") })));
      assert.deepEqual(await applyD1Migrations(d1, migrations), [], "wrangler recorded every migration under the name ours looks for");
      assert.deepEqual(await tables(), before);
    } finally {
      await mf?.dispose();
      await rm(state, { recursive: true, force: true });
    }
  });
});
