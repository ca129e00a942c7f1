import { BlobInfo, BlobUploadQuery, Sha256 } from "../../sdk/schema/index.ts";
import { withOwner } from "../auth/keys.ts";
import type { Services } from "../context.ts";
import { RegistryError } from "../http/errors.ts";
import { param } from "../http/validate.ts";
import type { Api } from "../openapi/api.ts";
import { serveBlob } from "./serve.ts";

export function blobRoutes(api: Api, s: Services) {
  api.op(
    {
      method: "put",
      path: "/v1/blobs/:sha256",
      tag: "Blobs",
      scope: ["write", "runner"],
      summary:
        "Upload bytes under their SHA-256 (verified while streaming; bytes already stored are verified the same way before you may read them, and answered the same way)",
      params: { sha256: "the SHA-256 of the body, lowercase hex" },
      query: BlobUploadQuery,
      binaryBody: { description: "the raw bytes; Content-Length (or ?size=) declares the size" },
      responses: {
        201: { description: "stored (the same answer whether or not these bytes were stored before; `kind` is the one you declared)", schema: BlobInfo },
        411: { description: "no declared size" },
        413: { description: "larger than the limit for this kind (payload_too_large), or than the owner's remaining quota (quota_exceeded)" },
        422: {
          description:
            "hash, size or content check failed (a LoRA's header is bounded: see docs/registry.md, LoRA file limits; a PNG video must be the model's clip PNG, else invalid_video)",
        },
      },
    },
    async (c, { query }) => {
      const p = c.get("principal");
      const sha256 = param(c, "sha256", Sha256);
      const header = c.req.header("content-length");
      const declared = header !== undefined ? Number(header) : query.size;
      if (declared === undefined || !Number.isSafeInteger(declared)) {
        throw new RegistryError("length_required", "declare the upload size with Content-Length or ?size=");
      }
      if (query.size !== undefined && header !== undefined && query.size !== declared) {
        throw new RegistryError("size_mismatch", `?size=${query.size} disagrees with Content-Length ${declared}`);
      }
      const body = clientBody(c.req.raw.body);
      const info = await s.blobs.upload(withOwner(p), sha256, query.kind, declared, body.stream).catch((e: unknown) => {
        // A client that hangs up mid-body breaks the stream under us: its doing, not a server fault.
        // Node aborts the request's signal; workerd only fails the read ("Network connection lost").
        if ((c.req.raw.signal.aborted || body.broken()) && !(e instanceof RegistryError))
          throw new RegistryError("client_closed_request", "the client closed the connection before the upload finished; nothing was stored");
        throw e;
      });
      return c.json(info, 201);
    },
  );

  api.op(
    {
      method: "get",
      path: "/v1/blobs/:sha256",
      tag: "Blobs",
      scope: "public",
      summary: "Download a blob you may read (ETag is the sha256; Range, If-None-Match and If-Range supported)",
      params: { sha256: "the blob's SHA-256" },
      responses: {
        200: { description: "the bytes", contentType: "application/octet-stream" },
        206: { description: "a byte range", contentType: "application/octet-stream" },
        304: { description: "not modified" },
        416: { description: "range not satisfiable" },
      },
    },
    async (c) => {
      const row = await s.blobs.getReadable(c.get("principal"), param(c, "sha256", Sha256));
      return (await serveBlob(c, s.store, row)).response;
    },
  );

  api.op(
    {
      method: "get",
      path: "/v1/blobs/:sha256/info",
      tag: "Blobs",
      scope: "public",
      summary: "A blob's size, kind (the one you uploaded it as, else the kind its bytes serve as) and type",
      params: { sha256: "the blob's SHA-256" },
      responses: { 200: { description: "the blob", schema: BlobInfo } },
    },
    async (c) => c.json(await s.blobs.info(c.get("principal"), param(c, "sha256", Sha256))),
  );
}

/** The request body, noting whether reading it failed: that is the client going away, on any runtime. */
function clientBody(raw: ReadableStream<Uint8Array> | null) {
  let broken = false;
  if (!raw) return { stream: new ReadableStream<Uint8Array>({ start: (ctl) => ctl.close() }), broken: () => false };
  const reader = raw.getReader();
  const stream = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        const { done, value } = await reader.read();
        if (done) ctl.close();
        else ctl.enqueue(value);
      } catch (e) {
        broken = true;
        ctl.error(e);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { stream, broken: () => broken };
}
