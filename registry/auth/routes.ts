import * as z from "zod";
import { ApiKey, ApiKeyCreated, KeyCreate, Me } from "../../sdk/schema/index.ts";
import type { Services } from "../context.ts";
import { param } from "../http/validate.ts";
import type { Api } from "../openapi/api.ts";
import { apiKeys } from "../db/schema.ts";
import { desc, eq } from "drizzle-orm";
import { createKey, hasScope, revokeKey, toApiKey, withOwner } from "./keys.ts";

export function keyRoutes(api: Api, s: Services) {
  api.op(
    {
      method: "get",
      path: "/v1/me",
      tag: "Keys",
      scope: "public",
      summary: "Who the current key belongs to",
      responses: { 200: { description: "the caller", schema: Me } },
    },
    (c) => {
      const p = c.get("principal");
      return c.json({ owner: p.owner, scopes: p.scopes, key_id: p.keyId });
    },
  );

  api.op(
    {
      method: "post",
      path: "/v1/keys",
      tag: "Keys",
      scope: "admin",
      summary: "Create an API key (the token is shown once)",
      body: KeyCreate,
      responses: { 201: { description: "created; store the token now", schema: ApiKeyCreated } },
    },
    async (c, { body }) => c.json(await createKey(s.db, body, s.config.defaultRateLimitPerMinute), 201),
  );

  api.op(
    {
      method: "get",
      path: "/v1/keys",
      tag: "Keys",
      scope: "read",
      summary: "List your keys (all keys for admins)",
      responses: { 200: { description: "keys", schema: z.object({ data: z.array(ApiKey) }) } },
    },
    async (c) => {
      const p = withOwner(c.get("principal"));
      const q = s.db.select().from(apiKeys);
      const rows = await (hasScope(p, "admin") ? q : q.where(eq(apiKeys.owner, p.owner))).orderBy(desc(apiKeys.createdAt)).limit(1000);
      return c.json({ data: rows.map(toApiKey) });
    },
  );

  api.op(
    {
      method: "delete",
      path: "/v1/keys/:id",
      tag: "Keys",
      scope: "read",
      summary: "Revoke a key: the calling key itself; another of your keys with no scope beyond yours (needs write); any key (admin)",
      params: { id: "key id" },
      responses: { 200: { description: "the revoked key", schema: ApiKey } },
    },
    async (c) => c.json(await revokeKey(s.db, withOwner(c.get("principal")), param(c, "id", z.string().max(64)))),
  );
}
