import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath } from "node:url";
import * as schema from "./schema.ts";
import type { Db } from "./client.ts";

const MIGRATIONS = fileURLToPath(new URL("./migrations", import.meta.url));

/** Opens (creating if needed) the embedded SQLite database and applies pending migrations. */
export async function openSqlite(file: string): Promise<{ db: Db; close: () => void }> {
  const client = createClient({ url: `file:${file}` });
  // WAL lets readers proceed during a write; busy_timeout waits out a writer instead of failing.
  await client.execute("PRAGMA journal_mode = WAL");
  await client.execute("PRAGMA busy_timeout = 5000");
  await client.execute("PRAGMA synchronous = NORMAL");
  await client.execute("PRAGMA foreign_keys = ON");
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder: MIGRATIONS });
  return { db: db as unknown as Db, close: () => client.close() };
}
