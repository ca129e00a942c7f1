import { desc } from "drizzle-orm";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { args, UsageError } from "../../sdk/cli/command.ts";
import { KeyCreate, Scope } from "../../sdk/schema/index.ts";
import { createKey, revokeKey, toApiKey } from "../auth/keys.ts";
import { defaultConfig } from "../config.ts";
import { openSqlite } from "../db/open.ts";
import { apiKeys } from "../db/schema.ts";
import type { Db } from "../db/client.ts";
import { RegistryError } from "../http/errors.ts";
import { homeDir } from "../node.ts";

const USAGE = "keys create --owner NAME [--scope read,write] [--name TEXT] [--rate-limit N] | keys list | keys revoke KEY_ID";

/** The key to create from `keys create` flags; a usage error names the flag, before the database is opened. */
function keyToCreate(argv: string[]) {
  const { values } = args(argv, { owner: { type: "string" }, scope: { type: "string" }, name: { type: "string" }, "rate-limit": { type: "string" } }, false);
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
  return { key: parsed.data, json: values.json === true };
}

/** `motion-lora keys …`: manages keys in the local registry database (how the first admin key is made). */
export async function keysCommand(command: string | undefined, argv: string[]): Promise<number> {
  const create = command === "create" ? keyToCreate(argv) : null;
  if (command === "list") args(argv, {}, false);
  if (command === "revoke" && !argv[0]) throw new UsageError("keys revoke needs KEY_ID");
  if (!create && command !== "list" && command !== "revoke") throw new UsageError(`usage: motion-lora ${USAGE}`);
  const home = homeDir();
  mkdirSync(home, { recursive: true });
  const { db, close } = await openSqlite(join(home, "registry.db"));
  try {
    return await run(db, command!, create, argv);
  } catch (e) {
    if (e instanceof RegistryError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  } finally {
    close();
  }
}

async function run(db: Db, command: string, create: ReturnType<typeof keyToCreate> | null, argv: string[]): Promise<number> {
  if (create) {
    const key = await createKey(db, create.key, defaultConfig.defaultRateLimitPerMinute);
    if (create.json) console.log(JSON.stringify(key));
    else console.log(`${key.token}\n\nkey ${key.id} for '${key.owner}' with scopes ${key.scopes.join(",")}. The token is shown only this once: store it now.`);
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
