import * as z from "zod";
import { Slug, Text, Timestamp } from "./common.ts";

export const Scope = z.enum(["read", "write", "runner", "admin"]);
export type Scope = z.infer<typeof Scope>;

export const KeyCreate = z.strictObject({
  owner: Slug,
  name: Text(64).default(""),
  scopes: z.array(Scope).min(1).default(["read", "write"]),
  rate_limit_per_minute: z.number().int().min(1).max(1_000_000).optional(),
});
export type KeyCreate = z.infer<typeof KeyCreate>;

export const ApiKey = z.object({
  id: z.string(),
  prefix: z.string().describe("the visible start of the token, for recognising it in lists"),
  owner: Slug,
  name: z.string(),
  scopes: z.array(Scope),
  rate_limit_per_minute: z.number().int(),
  created_at: Timestamp,
  last_used_at: Timestamp.nullable(),
  revoked_at: Timestamp.nullable(),
});
export type ApiKey = z.infer<typeof ApiKey>;

/** Returned once, at creation: the only time the secret token is visible. */
export const ApiKeyCreated = ApiKey.extend({ token: z.string() });
export type ApiKeyCreated = z.infer<typeof ApiKeyCreated>;

export const Me = z.object({ owner: Slug.nullable(), scopes: z.array(Scope), key_id: z.string().nullable() });
