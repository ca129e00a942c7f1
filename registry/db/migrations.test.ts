import assert from "node:assert/strict";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createClient } from "@libsql/client";
import { asc } from "drizzle-orm";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { JobErrorCode } from "../../sdk/schema/index.ts";
import { toJob } from "../jobs/rows.ts";
import type { Db } from "./client.ts";
import { applyD1Migrations, openD1 } from "./d1.ts";
import { openSqlite } from "./open.ts";
import * as schema from "./schema.ts";

const MIGRATIONS = fileURLToPath(new URL("./migrations/", import.meta.url));
const RENAME = "0012_engine_error_codes";

/** Failed jobs as registries before issue 27 stored them: the torch engine's old codes, and one other. */
async function seedOldJobs(db: Db) {
  const t = 1_700_000_000_000;
  const failed = (id: string, code: string) => ({
    id,
    owner: "alice",
    kind: "tune",
    status: "failed",
    input: {},
    resolvedLoras: [],
    error: { code, message: `${code}: exited (code null, signal SIGKILL) during a call` },
    requestHash: id,
    attempts: 3,
    maxAttempts: 3,
    eventSeq: 1,
    createdAt: t,
    updatedAt: t,
  });
  const jobs = [failed("j_crashed", "worker_crashed"), failed("j_error", "worker_error"), failed("j_lease", "lease_expired")];
  await db.insert(schema.jobs).values([...jobs, { ...failed("j_queued", "x"), status: "queued", error: null, eventSeq: 0 }]);
  await db
    .insert(schema.jobEvents)
    .values(jobs.map((j) => ({ jobId: j.id, seq: 1, type: "status", data: { status: "failed", error: j.error }, createdAt: t })));
}

/** What the API shows of each seeded job after the migration, and its failed event's code. */
async function expectRewritten(db: Db) {
  const rows = await db.select().from(schema.jobs).orderBy(asc(schema.jobs.id));
  assert.deepEqual(
    rows.map((r) => [r.id, toJob(r).error?.code ?? null]),
    [
      ["j_crashed", "engine_crashed"],
      ["j_error", "engine_error"],
      ["j_lease", "lease_expired"],
      ["j_queued", null],
    ],
  );
  for (const r of rows) if (r.error) assert.ok(JobErrorCode.safeParse(r.error.code).success, `${r.id}: ${r.error.code} is a JobErrorCode as stored`);
  assert.match(rows[0]!.error!.message, /^worker_crashed: exited/, "the message is kept as written");
  const events = await db.select().from(schema.jobEvents).orderBy(asc(schema.jobEvents.jobId));
  assert.deepEqual(
    events.map((e) => [e.jobId, (e.data.error as { code: string }).code, e.data.status]),
    [
      ["j_crashed", "engine_crashed", "failed"],
      ["j_error", "engine_error", "failed"],
      ["j_lease", "lease_expired", "failed"],
    ],
  );
}

describe(`migration ${RENAME}: stored worker_crashed/worker_error become engine_crashed/engine_error`, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "motion-lora-migrations-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("on SQLite: a registry file migrated up to the one before, then opened as a registry start opens it", async () => {
    // The migrations folder as it was before this one (drizzle's migrator reads the journal).
    const old = join(dir, "migrations-before");
    await cp(MIGRATIONS, old, { recursive: true });
    await rm(join(old, `${RENAME}.sql`));
    const journal = JSON.parse(await readFile(join(old, "meta", "_journal.json"), "utf8")) as { entries: { tag: string }[] };
    assert.ok(journal.entries.some((e) => e.tag === RENAME));
    journal.entries = journal.entries.filter((e) => e.tag !== RENAME);
    await writeFile(join(old, "meta", "_journal.json"), JSON.stringify(journal));

    const file = join(dir, "registry.db");
    const client = createClient({ url: `file:${file}` });
    const before = drizzle(client, { schema }) as unknown as Db;
    await migrate(before as never, { migrationsFolder: old });
    await seedOldJobs(before);
    client.close();

    const opened = await openSqlite(file);
    try {
      await expectRewritten(opened.db);
    } finally {
      opened.close();
    }
  });

  it("on D1 (Miniflare): applied as wrangler d1 migrations apply would, after the earlier ones", async () => {
    const files = (await readdir(MIGRATIONS)).filter((f) => f.endsWith(".sql"));
    const migrations = await Promise.all(files.map(async (name) => ({ name, sql: await readFile(join(MIGRATIONS, name), "utf8") })));
    const { Miniflare } = await import("miniflare");
    const mf = new Miniflare({ modules: true, script: "export default {}", d1Databases: ["DB"], d1Persist: join(dir, "d1") });
    try {
      const d1 = (await mf.getD1Database("DB")) as never as Parameters<typeof applyD1Migrations>[0];
      const earlier = await applyD1Migrations(
        d1,
        migrations.filter((m) => m.name !== `${RENAME}.sql`),
      );
      assert.ok(earlier.length > 0 && !earlier.includes(`${RENAME}.sql`));
      const db = openD1(d1);
      await seedOldJobs(db);
      assert.deepEqual(await applyD1Migrations(d1, migrations), [`${RENAME}.sql`]);
      await expectRewritten(db);
    } finally {
      await mf.dispose();
    }
  });
});
