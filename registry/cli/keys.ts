import { desc, eq, getTableColumns } from "drizzle-orm";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { args, printError, UsageError } from "../../sdk/cli/command.ts";
import { KeyCreate, Scope } from "../../sdk/schema/index.ts";
import { createKey, revokeKey, toApiKey } from "../auth/keys.ts";
import { defaultConfig } from "../config.ts";
import { openSqlite } from "../db/open.ts";
import { apiKeys } from "../db/schema.ts";
import type { Db } from "../db/client.ts";
import { RegistryError } from "../http/errors.ts";
import { homeDir } from "../node.ts";

const USAGE =
  "keys create --owner NAME [--scope read,write] [--name TEXT] [--rate-limit N] [--sql | --worker] | keys list [--worker] | keys revoke KEY_ID [--worker]";

/** The key to create from `keys create` flags; a usage error names the flag, before the database is opened. */
function keyToCreate(argv: string[]) {
  const { values } = args(
    argv,
    {
      owner: { type: "string" },
      scope: { type: "string" },
      name: { type: "string" },
      "rate-limit": { type: "string" },
      sql: { type: "boolean" },
      worker: { type: "boolean" },
    },
    false,
  );
  const scopes = (values.scope ?? "read,write").split(",").map((x) => x.trim());
  const bad = scopes.find((x) => !Scope.safeParse(x).success);
  if (bad) throw new UsageError(`unknown scope '${bad}'; choose from ${Scope.options.join(", ")}`);
  const parsed = KeyCreate.safeParse({
    owner: values.owner ?? (scopes.includes("admin") ? "admin" : undefined),
    name: values.name ?? "",
    scopes,
    ...(values["rate-limit"] ? { rate_limit_per_minute: Number(values["rate-limit"]) } : {}),
  });
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new UsageError(`--${String(i.path[0] ?? "owner").replace("rate_limit_per_minute", "rate-limit")}: ${i.message}`);
  }
  if (values.sql && values.worker) throw new UsageError("--sql prints the key for a D1 elsewhere, --worker writes it to the local Worker's D1: choose one");
  return { key: parsed.data, json: values.json === true, sql: values.sql === true, worker: values.worker === true };
}

/** `motion-lora keys …`: manages keys in the local registry database (how the first admin key is made). */
export async function keysCommand(command: string | undefined, argv: string[]): Promise<number> {
  const create = command === "create" ? keyToCreate(argv) : null;
  const other = command === "list" || command === "revoke" ? args(argv, { worker: { type: "boolean" } }, command === "revoke") : null;
  if (command === "revoke" && !other?.positionals[0]) throw new UsageError("keys revoke needs KEY_ID");
  if (!create && !other) throw new UsageError(`usage: motion-lora ${USAGE}`);
  if (create?.sql) return keyAsSql(create.key);
  const home = homeDir();
  mkdirSync(home, { recursive: true });
  // --worker: the D1 database `npm run dev:worker` keeps under the same home, not the Node registry's file.
  const worker = create?.worker ?? other?.values.worker === true;
  const { db, close } = worker ? await (await import("../worker-local.ts")).openLocalWorkerDb(home) : await openSqlite(join(home, "registry.db"));
  try {
    return await run(db, command!, create, other?.positionals ?? []);
  } catch (e) {
    if (e instanceof RegistryError) {
      printError(e.message);
      return 1;
    }
    throw e;
  } finally {
    await close();
  }
}

async function run(db: Db, command: string, create: ReturnType<typeof keyToCreate> | null, argv: string[]): Promise<number> {
  if (create) {
    const key = await createKey(db, create.key, defaultConfig.defaultRateLimitPerMinute);
    if (create.json) console.log(JSON.stringify(key));
    else {
      // The token alone on stdout, so TOKEN=$(… keys create …) captures just it; the note is for the person.
      console.log(key.token);
      console.error(`key ${key.id} for '${key.owner}' with scopes ${key.scopes.join(",")}. The token is shown only this once: store it now.`);
    }
    return 0;
  }
  if (command === "list") {
    const rows = await db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt));
    for (const k of rows.map(toApiKey)) {
      console.log(`${k.id}  ${k.prefix}…  ${k.owner}  ${k.scopes.join(",")}${k.revoked_at ? `  revoked ${k.revoked_at}` : ""}`);
    }
    return 0;
  }
  const k = await revokeKey(db, { keyId: null, owner: null, scopes: ["admin"], rateLimitPerMinute: 0 }, argv[0]!);
  console.log(`revoked ${k.id} (${k.prefix}…)`);
  return 0;
}

/**
 * `keys create --sql`: the key's row as an INSERT for a database this machine cannot open (D1:
 * `wrangler d1 execute DB --remote --file key.sql`). The statement goes to stdout, the token to
 * stderr, shown once; the row is made in a scratch database by the same code as any key.
 */
async function keyAsSql(input: ReturnType<typeof keyToCreate>["key"]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "motion-lora-key-"));
  const { db, close } = await openSqlite(join(dir, "scratch.db"));
  try {
    const key = await createKey(db, input, defaultConfig.defaultRateLimitPerMinute);
    const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, key.id));
    const cols = getTableColumns(apiKeys);
    const literal = (v: unknown): string =>
      v === null ? "NULL" : typeof v === "number" ? String(v) : `'${(typeof v === "string" ? v : JSON.stringify(v)).replaceAll("'", "''")}'`;
    const names = Object.values(cols).map((c) => `"${c.name}"`);
    const values = Object.keys(cols).map((k) => literal((row as Record<string, unknown>)[k]));
    console.log(`INSERT INTO "api_keys" (${names.join(", ")}) VALUES (${values.join(", ")});`);
    console.error(
      `${key.token}\n\nkey ${key.id} for '${key.owner}' with scopes ${key.scopes.join(",")}, as SQL on stdout. The token is shown only this once: store it now.`,
    );
    return 0;
  } finally {
    close();
    rmSync(dir, { recursive: true, force: true });
  }
}
