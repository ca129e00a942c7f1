import { and, eq, isNull } from "drizzle-orm";
import type { ApiKey, KeyCreate, Scope } from "../../sdk/schema/index.ts";
import type { Db } from "../db/client.ts";
import { apiKeys } from "../db/schema.ts";
import { RegistryError } from "../http/errors.ts";
import { newWebhookSecret } from "../../sdk/webhooks/signature.ts";
import { iso, isoOrNull, newId, randomText, sha256Hex } from "../ids.ts";

export const TOKEN_PREFIX = "mlk_";

/** Who is calling: a key's owner and scopes, or an anonymous reader. */
export interface Principal {
  keyId: string | null;
  owner: string | null;
  scopes: Scope[];
  rateLimitPerMinute: number;
}

export const anonymous = (rateLimitPerMinute: number): Principal => ({
  keyId: null,
  owner: null,
  scopes: ["read"],
  rateLimitPerMinute,
});

/** Admin holds every scope; `write` and `runner` imply `read`. */
export function hasScope(p: Principal, scope: Scope): boolean {
  if (p.scopes.includes("admin")) return true;
  if (scope === "read") return p.scopes.length > 0;
  return p.scopes.includes(scope);
}

/**
 * Where a key comes from, for any client: keys are made on the registry's machine by the repository's
 * CLI, which the SDK package's `motion-lora` (client commands only) does not have.
 */
const getAKey = (which = "one") =>
  `ask the registry's operator for ${which} (on the registry's machine, in a clone of the motion-lora repository: npx motion-lora keys create --owner NAME --scope read,write)`;

/** Throws 401/403 unless the caller holds `scope`. */
export function requireScope(p: Principal, scope: Scope): asserts p is Principal & { owner: string } {
  if (p.keyId === null && scope !== "read") {
    throw new RegistryError("unauthenticated", `this request needs an API key: send 'Authorization: Bearer mlk_…'; ${getAKey()}`);
  }
  if (!hasScope(p, scope)) {
    throw new RegistryError("insufficient_scope", `this request needs the '${scope}' scope; your key has: ${p.scopes.join(", ")}`);
  }
}

/** The principal of a keyed caller (routes with a write/runner/admin scope have one). */
export function withOwner(p: Principal): Principal & { owner: string } {
  if (p.owner === null) throw new RegistryError("unauthenticated", "this request needs an API key: send 'Authorization: Bearer mlk_…'");
  return p as Principal & { owner: string };
}

type KeyRow = typeof apiKeys.$inferSelect;

export function toApiKey(row: KeyRow): ApiKey {
  return {
    id: row.id,
    prefix: row.prefix,
    owner: row.owner,
    name: row.name,
    scopes: row.scopes as Scope[],
    rate_limit_per_minute: row.rateLimitPerMinute,
    created_at: iso(row.createdAt),
    last_used_at: isoOrNull(row.lastUsedAt),
    revoked_at: isoOrNull(row.revokedAt),
  };
}

/** Creates a key; the token is returned here once and only its SHA-256 is stored. */
export async function createKey(db: Db, input: KeyCreate, defaultRate: number, now = Date.now()) {
  const token = TOKEN_PREFIX + randomText(20);
  const row: KeyRow = {
    id: newId("key", now),
    prefix: token.slice(0, TOKEN_PREFIX.length + 6),
    hash: await sha256Hex(token),
    owner: input.owner,
    name: input.name,
    scopes: [...new Set(input.scopes)],
    rateLimitPerMinute: input.rate_limit_per_minute ?? defaultRate,
    webhookSecret: newWebhookSecret(),
    createdAt: now,
    lastUsedAt: null,
    revokedAt: null,
  };
  await db.insert(apiKeys).values(row);
  return { ...toApiKey(row), token };
}

// last_used_at is advisory; writing it on every request would turn reads into writes.
const LAST_USED_RESOLUTION_MS = 60_000;

/** Resolves a bearer token to its principal, or throws 401 saying what is wrong with it. */
export async function authenticate(db: Db, token: string, now = Date.now()): Promise<Principal> {
  if (!token.startsWith(TOKEN_PREFIX)) {
    throw new RegistryError("invalid_api_key", `API keys start with '${TOKEN_PREFIX}'; check the Authorization header`);
  }
  const hash = await sha256Hex(token);
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.hash, hash)).limit(1);
  if (!row) throw new RegistryError("invalid_api_key", `this API key is not known to the registry; ${getAKey()}`);
  if (row.revokedAt !== null)
    throw new RegistryError("api_key_revoked", `API key ${row.prefix}… was revoked on ${iso(row.revokedAt)}; ${getAKey("a new one")}`);
  if (row.lastUsedAt === null || now - row.lastUsedAt > LAST_USED_RESOLUTION_MS) {
    await db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, row.id));
  }
  return { keyId: row.id, owner: row.owner, scopes: row.scopes as Scope[], rateLimitPerMinute: row.rateLimitPerMinute };
}

/**
 * Revokes a key. Any key may revoke itself (whoever holds a leaked key can kill it); an admin may
 * revoke any key; otherwise revoking needs the write scope and a key whose scopes are all among
 * the caller's, so a read key cannot lock its owner out and a write key cannot revoke an admin.
 * Idempotent.
 */
export async function revokeKey(db: Db, p: Principal, id: string, now = Date.now()): Promise<ApiKey> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
  if (!row || (!hasScope(p, "admin") && row.owner !== p.owner)) throw new RegistryError("not_found", `API key ${id} was not found`);
  if (row.id !== p.keyId && !hasScope(p, "admin")) {
    if (!hasScope(p, "write"))
      throw new RegistryError("insufficient_scope", `revoking another key needs the 'write' scope; your key has: ${p.scopes.join(", ")}`);
    const beyond = (row.scopes as Scope[]).filter((sc) => !hasScope(p, sc));
    if (beyond.length > 0) throw new RegistryError("forbidden", `key ${id} has scope(s) ${beyond.join(", ")}, beyond yours; ask an admin to revoke it`);
  }
  if (row.revokedAt === null) {
    await db
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
    row.revokedAt = now;
  }
  return toApiKey(row);
}

/** The secret that signs webhooks of jobs created with key `keyId`, or null when the key is gone. */
export async function webhookSecret(db: Db, keyId: string): Promise<string | null> {
  const [row] = await db.select({ secret: apiKeys.webhookSecret }).from(apiKeys).where(eq(apiKeys.id, keyId)).limit(1);
  return row?.secret ?? null;
}
