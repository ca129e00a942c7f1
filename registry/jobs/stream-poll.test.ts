import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { createApp } from "../app.ts";
import { createKey } from "../auth/keys.ts";
import { FsBlobStore } from "../blobs/fs-store.ts";
import type { Db } from "../db/client.ts";
import { openSqlite } from "../db/open.ts";
import * as schema from "../db/schema.ts";

// Counts every query one instance makes (drizzle's logger sees each) while N streams sit open over
// HTTP: idle, they must cost the instance's one shared poll a second, not a read per stream. The
// Worker runs the same StreamWatch; workerd has no query hook, so the count is made here.
describe("open event streams share one poll per instance", () => {
  const N = 20;
  let dir: string;
  let client: ReturnType<typeof createClient>;
  let server: ReturnType<typeof serve>;
  let url: string;
  let other: Awaited<ReturnType<typeof openSqlite>>;
  let otherServices: ReturnType<typeof createApp>["services"];
  let queries = 0;
  let user: string;
  const streams: AbortController[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "motion-lora-stream-poll-"));
    client = createClient({ url: `file:${join(dir, "registry.db")}` });
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute("PRAGMA busy_timeout = 5000");
    const db = drizzle(client, { schema, logger: { logQuery: () => void queries++ } }) as unknown as Db;
    await migrate(db as never, { migrationsFolder: fileURLToPath(new URL("../db/migrations", import.meta.url)) });
    const { app } = createApp({ db, store: new FsBlobStore(dir), config: { maxStreamsPerKey: N }, log: () => {} });
    server = await new Promise((ok) => {
      const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => ok(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    user = (await createKey(db, { owner: "alice", name: "t", scopes: ["read", "write"] }, 1e6)).token;
    // Another instance over the same database: its appends wake no one in the first.
    other = await openSqlite(join(dir, "registry.db"));
    otherServices = createApp({ db: other.db, store: new FsBlobStore(dir), log: () => {} }).services;
  });
  after(async () => {
    for (const s of streams) s.abort();
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise((ok) => server.close(ok));
    other.close();
    client.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Opens a job's stream; resolves once `text` has arrived on it, each time `until` is called. */
  const stream = async (id: string) => {
    const ctl = new AbortController();
    streams.push(ctl);
    const res = await fetch(`${url}/v1/jobs/${id}/events`, { headers: { authorization: `Bearer ${user}` }, signal: ctl.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let got = "";
    return async (text: string) => {
      while (!got.includes(text)) got += new TextDecoder().decode((await reader.read()).value);
    };
  };

  it(`${N} idle streams cost about one query a second, and another instance's event still arrives within 2.5 s`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const res = await fetch(`${url}/v1/jobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${user}`, "content-type": "application/json" },
        body: JSON.stringify({ kind: "generate", input: { prompt: "a red circle on a black background" } }),
      });
      ids.push(((await res.json()) as { id: string }).id);
    }
    const until = await Promise.all(ids.map(stream));
    await Promise.all(until.map((u) => u("event: status")));
    await new Promise((ok) => setTimeout(ok, 500));
    queries = 0;
    const seconds = 3;
    await new Promise((ok) => setTimeout(ok, seconds * 1000));
    const idle = queries;
    console.log(`# ${N} idle streams, ${seconds} s: ${idle} queries`);
    assert.ok(idle <= seconds + 1, `${idle} queries in ${seconds} s with ${N} streams open`);

    const t0 = Date.now();
    await otherServices.events.append(ids[7]!, "log", { message: "from another instance" });
    await until[7]!("from another instance");
    console.log(`# another instance's event arrived after ${Date.now() - t0} ms`);
    assert.ok(Date.now() - t0 < 2_500, `seen after ${Date.now() - t0} ms`);
  });
});
