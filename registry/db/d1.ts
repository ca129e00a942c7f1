import type { D1Database } from "@cloudflare/workers-types/latest/index.ts";
import { drizzle } from "drizzle-orm/d1";
import type { Db } from "./client.ts";
import * as schema from "./schema.ts";

/** The registry's database on Cloudflare D1 (migrations are wrangler's: `wrangler d1 migrations apply`). */
export function openD1(d1: D1Database): Db {
  return drizzle(d1, { schema }) as unknown as Db;
}

export interface Migration {
  /** The file name, e.g. 0003_lora_readme.sql: what wrangler records in d1_migrations. */
  name: string;
  sql: string;
}

/**
 * Applies the migrations D1 has not recorded, as `wrangler d1 migrations apply` does (same
 * d1_migrations table), so a database set up here and one set up by wrangler agree. For local
 * workerd (tests, benchmarks); each file runs as one batch.
 */
export async function applyD1Migrations(d1: D1Database, migrations: Migration[]): Promise<string[]> {
  await d1
    .prepare(
      "CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    )
    .run();
  const done = new Set((await d1.prepare("SELECT name FROM d1_migrations").all<{ name: string }>()).results.map((r) => r.name));
  const applied: string[] = [];
  for (const m of [...migrations].sort((a, b) => a.name.localeCompare(b.name))) {
    if (done.has(m.name)) continue;
    const statements = m.sql
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => d1.prepare(s));
    await d1.batch([...statements, d1.prepare("INSERT INTO d1_migrations (name) VALUES (?)").bind(m.name)]);
    applied.push(m.name);
  }
  return applied;
}
