import { desc } from "drizzle-orm";
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { KeyCreate, Scope } from "../../sdk/schema/index.ts";
import { createKey, revokeKey, toApiKey } from "../auth/keys.ts";
import { defaultConfig } from "../config.ts";
import { openSqlite } from "../db/open.ts";
import { apiKeys } from "../db/schema.ts";
import { RegistryError } from "../http/errors.ts";
import { homeDir } from "../node.ts";

/** `motion-lora keys …`: manages keys in the local registry database (how the first admin key is made). */
export async function keysCommand(command: string | undefined, args: string[]): Promise<number> {
  const home = homeDir();
  mkdirSync(home, { recursive: true });
  const { db, close } = await openSqlite(join(home, "registry.db"));
  try {
    if (command === "create") {
      const { values } = parseArgs({
        args,
        options: {
          owner: { type: "string" },
          scope: { type: "string" },
          name: { type: "string" },
          "rate-limit": { type: "string" },
          json: { type: "boolean" },
        },
      });
      const scopes = (values.scope ?? "read,write").split(",").map((x) => x.trim());
      const bad = scopes.find((x) => !Scope.safeParse(x).success);
      if (bad) {
        console.error(`unknown scope '${bad}'; choose from ${Scope.options.join(", ")}`);
        return 2;
      }
      const parsed = KeyCreate.safeParse({
        owner: values.owner ?? (scopes.includes("admin") ? "admin" : undefined),
        name: values.name ?? "",
        scopes,
        ...(values["rate-limit"] ? { rate_limit_per_minute: Number(values["rate-limit"]) } : {}),
      });
      if (!parsed.success) {
        const i = parsed.error.issues[0]!;
        console.error(`--${String(i.path[0] ?? "owner").replace("rate_limit_per_minute", "rate-limit")}: ${i.message}`);
        return 2;
      }
      const key = await createKey(db, parsed.data, defaultConfig.defaultRateLimitPerMinute);
      if (values.json) console.log(JSON.stringify(key));
      else
        console.log(`${key.token}\n\nkey ${key.id} for '${key.owner}' with scopes ${key.scopes.join(",")}. The token is shown only this once: store it now.`);
      return 0;
    }
    if (command === "list") {
      const rows = await db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt));
      for (const k of rows.map(toApiKey)) {
        console.log(`${k.id}  ${k.prefix}…  ${k.owner}  ${k.scopes.join(",")}${k.revoked_at ? `  revoked ${k.revoked_at}` : ""}`);
      }
      return 0;
    }
    if (command === "revoke" && args[0]) {
      const k = await revokeKey(db, { keyId: null, owner: null, scopes: ["admin"], rateLimitPerMinute: 0 }, args[0]);
      console.log(`revoked ${k.id} (${k.prefix}…)`);
      return 0;
    }
    console.error("usage: motion-lora keys create --owner NAME [--scope read,write] | keys list | keys revoke KEY_ID");
    return 2;
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
