import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath } from "node:url";
import { createApp } from "../app.ts";
import { createKey } from "../auth/keys.ts";
import { FsBlobStore } from "../blobs/fs-store.ts";
import type { Db } from "../db/client.ts";
import * as schema from "../db/schema.ts";
import { WORKER_DEFAULTS } from "../worker.ts";

// Workers cap an invocation's subrequests (Free plan: 50, D1 queries included) and workerd does not
// enforce the cap locally, so this counts them: every query the registry's code makes (drizzle's
// logger sees each) and every POST the receiver gets, over the same code the Worker runs.
describe("webhook drains within an invocation's subrequest budget", () => {
  let dir: string;
  let client: ReturnType<typeof createClient>;
  let receiver: Server;
  let queries = 0;
  let posts = 0;
  let services: ReturnType<typeof createApp>["services"];
  let app: ReturnType<typeof createApp>["app"];
  let user: string;
  let runner: string;
  let hook: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "motion-lora-budget-"));
    client = createClient({ url: `file:${join(dir, "registry.db")}` });
    const db = drizzle(client, { schema, logger: { logQuery: () => void queries++ } }) as unknown as Db;
    await migrate(db as never, { migrationsFolder: fileURLToPath(new URL("../db/migrations", import.meta.url)) });
    receiver = createServer((req, res) => {
      posts++;
      req.resume().on("end", () => res.writeHead(204).end());
    });
    await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
    hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    ({ app, services } = createApp({
      db,
      store: new FsBlobStore(dir),
      config: { ...WORKER_DEFAULTS, webhooks: { ...WORKER_DEFAULTS.webhooks, allowPrivate: true, perTenantConcurrency: 6 } },
      webhookDelivery: "on-demand",
      log: () => {},
    }));
    user = (await createKey(db, { owner: "alice", name: "t", scopes: ["read", "write"] }, 1e6)).token;
    runner = (await createKey(db, { owner: "runner", name: "t", scopes: ["runner"] }, 1e6)).token;
  });
  after(async () => {
    receiver.closeAllConnections();
    await new Promise((ok) => receiver.close(ok));
    client.close();
    await rm(dir, { recursive: true, force: true });
  });

  const call = (token: string, path: string, json: unknown) =>
    app.request(path, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(json) });
  /** A job whose "start" webhook goes to the receiver. */
  const hookedJob = () =>
    call(user, "/v1/jobs", { kind: "generate", input: { prompt: "a red circle on a black background" }, webhook: hook, webhook_events_filter: ["start"] });

  it("creating a job leaves room for the drain: it makes fewer queries than the 20 the drain leaves it", async () => {
    // Warm the key and rate-limit state first: a Worker isolate serves many requests.
    assert.equal((await call(user, "/v1/jobs", { kind: "generate", input: { prompt: "a red circle on a black background" } })).status, 201);
    queries = 0;
    assert.equal((await hookedJob()).status, 201);
    console.log(`# POST /v1/jobs with a webhook: ${queries} queries`);
    assert.ok(queries <= 50 - WORKER_DEFAULTS.webhooks.subrequestsPerDrain, `${queries} queries`);
  });

  it("stops before the budget and leaves the rest pending for the next drain, which goes on from there", async () => {
    for (let i = 0; i < 19; i++) assert.equal((await hookedJob()).status, 201);
    // Claiming starts each job: 20 "start" webhooks fall due (and one job without a webhook).
    for (let i = 0; i < 21; i++) assert.equal((await call(runner, "/v1/runner/claim", { runner_id: "r", kinds: ["generate"] })).status, 200);
    const budget = WORKER_DEFAULTS.webhooks.subrequestsPerDrain;
    let delivered = 0;
    for (let drain = 0; delivered < 20; drain++) {
      assert.ok(drain < 10, "the drains make progress");
      queries = 0;
      posts = 0;
      const sent = await services.webhooks.drain(5_000);
      assert.ok(queries + posts <= budget, `drain ${drain}: ${queries} queries + ${posts} POSTs > ${budget}`);
      assert.equal(posts, sent);
      assert.ok(sent >= 1, `drain ${drain} delivered nothing`);
      delivered += sent;
    }
    assert.equal(delivered, 20);
    const states = await services.db.select({ state: schema.webhookDeliveries.state }).from(schema.webhookDeliveries);
    assert.deepEqual(
      states.map((s) => s.state),
      Array(20).fill("delivered"),
    );
  });
});
