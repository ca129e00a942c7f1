import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { openSqlite } from "../db/open.ts";
import { rateBuckets } from "../db/schema.ts";
import { startLocalWorker } from "../worker-local.ts";
import { DbRateLimiter } from "./rate-limit.ts";

// The same cases over libsql (the Node registry) and over D1 (a local Worker's database through drizzle-orm/d1).
const TARGETS: Record<string, (dir: string) => Promise<{ db: Db; close: () => Promise<void> | void }>> = {
  libsql: (dir) => openSqlite(join(dir, "registry.db")),
  d1: async (dir) => {
    const w = await startLocalWorker({ home: dir });
    return { db: w.services.db, close: () => w.stop() };
  },
};

for (const [target, open] of Object.entries(TARGETS))
  describe(`rate limits shared through the database (${target})`, () => {
    let dir: string;
    let db: Db;
    let close: () => Promise<void> | void;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "motion-lora-limits-"));
      ({ db, close } = await open(dir));
    });
    after(async () => {
      await close();
      await rm(dir, { recursive: true, force: true });
    });
    const tokensLeft = async (key: string) => (await db.select().from(rateBuckets).where(eq(rateBuckets.key, key)))[0]?.tokens;

    it("never lets two instances together exceed one bucket, and writes once per lease, not per request", async () => {
      const a = new DbRateLimiter(db);
      const b = new DbRateLimiter(db);
      const now = Date.now();
      assert.equal(await a.take("k", 600, now), 0);
      assert.equal(await tokensLeft("k"), 570, "the first take leased 5% of the minute's 600");
      for (let i = 0; i < 29; i++) assert.equal(await a.take("k", 600, now), 0);
      assert.equal(await tokensLeft("k"), 570, "the lease was spent without writing");
      let granted = 30;
      for (let i = 0; i < 1_000; i++) if ((await (i % 2 ? a : b).take("k", 600, now)) === 0) granted++;
      assert.equal(granted, 600, "exactly the bucket's 600, across both instances");
      const wait = await b.take("k", 600, now);
      assert.ok(wait >= 1, `an empty bucket says when to retry (${wait} s)`);
      assert.equal(await a.take("k", 600, now + 60_000), 0, "a minute refills it");
    });

    it("serves a concurrent burst from one instance with only as many leases as it needs", async () => {
      const a = new DbRateLimiter(db);
      const now = Date.now();
      const big = await Promise.all(Array.from({ length: 64 }, () => a.take("burst", 1e6, now)));
      assert.deepEqual(
        big.filter((w) => w > 0),
        [],
      );
      assert.equal(await tokensLeft("burst"), 1e6 - 50_000, "one lease of 5% served all 64, not one lease each");
      // Leases of 30 (5% of 600): 64 requests need three.
      const small = await Promise.all(Array.from({ length: 64 }, () => a.take("burst-small", 600, now)));
      assert.deepEqual(
        small.filter((w) => w > 0),
        [],
      );
      assert.equal(await tokensLeft("burst-small"), 600 - 90);
    });

    it("refuses the rest of a burst once the shared bucket is empty, and says when to retry", async () => {
      const a = new DbRateLimiter(db);
      const now = Date.now();
      const waits = await Promise.all(Array.from({ length: 64 }, () => a.take("burst-empty", 40, now)));
      assert.equal(waits.filter((w) => w === 0).length, 40, "exactly the bucket's 40");
      assert.ok(
        waits.filter((w) => w > 0).every((w) => w === 2),
        "one token comes back every 1.5 s",
      );
    });

    it("is exact for small limits (a lease of one token)", async () => {
      const a = new DbRateLimiter(db);
      const b = new DbRateLimiter(db);
      const now = Date.now();
      const results = [];
      for (let i = 0; i < 8; i++) results.push(await (i % 2 ? a : b).take("small", 5, now));
      assert.deepEqual(
        results.map((w) => w === 0),
        [true, true, true, true, true, false, false, false],
      );
      assert.equal(await a.wait("small", 5, now), 12, "one token comes back every 12 s");
    });
  });
