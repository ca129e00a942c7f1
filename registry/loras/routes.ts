import * as z from "zod";
import { Lora, LoraCreate, LoraListQuery, LoraUpdate, LoraVersion, Page, Slug, VersionCreate, VersionListQuery } from "../../sdk/schema/index.ts";
import { serveBlob } from "../blobs/serve.ts";
import type { Services } from "../context.ts";
import { idempotencyKey, param } from "../http/validate.ts";
import type { Api } from "../openapi/api.ts";
import { withOwner } from "../auth/keys.ts";
import { toLora } from "./rows.ts";

const VersionParam = z.union([z.literal("latest"), z.coerce.number().int().min(1)]);
const path = { owner: "owner slug", name: "LoRA name slug" };
const versionPath = { ...path, version: "version number, or 'latest'" };

export function loraRoutes(api: Api, s: Services) {
  const slugs = (c: Parameters<Parameters<Api["op"]>[1]>[0]) => [param(c, "owner", Slug), param(c, "name", Slug)] as const;

  api.op(
    {
      method: "post",
      path: "/v1/loras",
      tag: "LoRAs",
      scope: "write",
      summary: "Create a LoRA (a named home for versions)",
      body: LoraCreate,
      responses: { 201: { description: "created", schema: Lora } },
    },
    async (c, { body }) => c.json(await s.loras.create(withOwner(c.get("principal")), body), 201),
  );

  api.op(
    {
      method: "get",
      path: "/v1/loras",
      tag: "LoRAs",
      scope: "public",
      summary: "Search and list LoRAs (text over name/title/tags; filter by category, base model, owner)",
      query: LoraListQuery,
      responses: { 200: { description: "a page of LoRAs", schema: Page(Lora) } },
    },
    async (c, { query }) => c.json(await s.loras.list(c.get("principal"), query)),
  );

  api.op(
    {
      method: "get",
      path: "/v1/loras/:owner/:name",
      tag: "LoRAs",
      scope: "public",
      summary: "Get a LoRA",
      params: path,
      responses: { 200: { description: "the LoRA", schema: Lora } },
    },
    async (c) => {
      const [owner, name] = slugs(c);
      return c.json(toLora(await s.loras.find(c.get("principal"), owner, name), true));
    },
  );

  api.op(
    {
      method: "patch",
      path: "/v1/loras/:owner/:name",
      tag: "LoRAs",
      scope: "write",
      summary: "Update a LoRA's metadata",
      params: path,
      body: LoraUpdate,
      responses: { 200: { description: "the updated LoRA", schema: Lora } },
    },
    async (c, { body }) => {
      const [owner, name] = slugs(c);
      return c.json(await s.loras.update(c.get("principal"), owner, name, body));
    },
  );

  api.op(
    {
      method: "delete",
      path: "/v1/loras/:owner/:name",
      tag: "LoRAs",
      scope: "write",
      summary: "Delete a LoRA (soft: it leaves listings; versions stay downloadable by hash for jobs that use them)",
      params: path,
      responses: { 204: { description: "deleted" } },
    },
    async (c) => {
      const [owner, name] = slugs(c);
      await s.loras.remove(c.get("principal"), owner, name);
      return c.body(null, 204);
    },
  );

  api.op(
    {
      method: "post",
      path: "/v1/loras/:owner/:name/versions",
      tag: "Versions",
      scope: "write",
      summary: "Publish an immutable version from an uploaded safetensors file (metadata is read from its header)",
      params: path,
      headers: {
        "Idempotency-Key":
          "optional; the same key and body returns the version it published (200), another body is a 409. Without one, the body that published the latest version returns that version",
      },
      body: VersionCreate,
      responses: {
        200: { description: "replayed: the version this key (or this very body, as the latest version) already published", schema: LoraVersion },
        201: { description: "published", schema: LoraVersion },
        422: {
          description:
            "blob_missing (a hash you cannot read counts as missing), invalid_safetensors, invalid_lora_metadata, " +
            "invalid_lora_tensors (names, shapes, dtype or non-finite values the base model cannot use), base_model_mismatch",
        },
      },
    },
    async (c, { body }) => {
      const [owner, name] = slugs(c);
      const { version, replayed } = await s.publisher.publish(c.get("principal"), owner, name, body, { idempotencyKey: idempotencyKey(c) });
      return c.json(version, replayed ? 200 : 201);
    },
  );

  api.op(
    {
      method: "get",
      path: "/v1/loras/:owner/:name/versions",
      tag: "Versions",
      scope: "public",
      summary: "List versions, newest first (each version's __metadata__ only with ?include=metadata)",
      params: path,
      query: VersionListQuery,
      responses: { 200: { description: "a page of versions", schema: Page(LoraVersion) } },
    },
    async (c, { query }) => {
      const [owner, name] = slugs(c);
      return c.json(await s.loras.versions(c.get("principal"), owner, name, query.limit, query.cursor, query.include === "metadata"));
    },
  );

  api.op(
    {
      method: "get",
      path: "/v1/loras/:owner/:name/versions/:version",
      tag: "Versions",
      scope: "public",
      summary: "Get a version",
      params: versionPath,
      responses: { 200: { description: "the version", schema: LoraVersion } },
    },
    async (c) => {
      const [owner, name] = slugs(c);
      const { version } = await s.loras.version(c.get("principal"), owner, name, param(c, "version", VersionParam));
      return c.json(version);
    },
  );

  api.op(
    {
      method: "get",
      path: "/v1/loras/:owner/:name/versions/:version/file",
      tag: "Versions",
      scope: "public",
      summary: "Download a version's safetensors file (counts a download; ETag, Range and conditional requests supported)",
      params: versionPath,
      responses: {
        200: { description: "the file", contentType: "application/vnd.safetensors" },
        206: { description: "a byte range of the file", contentType: "application/vnd.safetensors" },
        304: { description: "not modified" },
      },
    },
    async (c) => {
      const [owner, name] = slugs(c);
      const { lora, row } = await s.loras.version(c.get("principal"), owner, name, param(c, "version", VersionParam));
      const blob = await s.blobs.require(row.fileSha256, "file");
      const served = await serveBlob(c, s.store, blob, `${owner}-${name}-v${row.version}.safetensors`);
      if (served.fullDownload) await s.loras.countDownload(lora, row.id);
      return served.response;
    },
  );
}
