import type { Context } from "hono";
import { RegistryError } from "../http/errors.ts";
import { etagMatches, parseRange } from "../http/range.ts";
import type { BlobStore } from "./store.ts";

export interface ServedBlob {
  sha256: string;
  size: number;
  contentType: string;
}

/**
 * Streams a blob with HTTP caching and ranges: the ETag is the sha256 (the content never changes),
 * `If-None-Match` gives 304, `Range` gives 206, `If-Range` with another tag gives the whole body.
 * Returns the response and whether the whole blob from byte 0 was sent (what counts as a download).
 */
export async function serveBlob(c: Context, store: BlobStore, blob: ServedBlob, filename?: string): Promise<{ response: Response; fullDownload: boolean }> {
  const etag = `"${blob.sha256}"`;
  const headers: Record<string, string> = {
    ETag: etag,
    "Accept-Ranges": "bytes",
    "Cache-Control": "private, max-age=31536000, immutable",
    "Content-Type": blob.contentType,
    "X-Content-SHA256": blob.sha256,
  };
  if (filename) headers["Content-Disposition"] = `attachment; filename="${filename}"`;
  if (etagMatches(c.req.header("if-none-match"), etag)) {
    return { response: new Response(null, { status: 304, headers }), fullDownload: false };
  }
  const ifRange = c.req.header("if-range");
  const range = ifRange && ifRange !== etag ? ({ kind: "full" } as const) : parseRange(c.req.header("range"), blob.size);
  if (range.kind === "unsatisfiable") {
    throw new RegistryError("range_not_satisfiable", `the range is outside the ${blob.size}-byte blob`, undefined, {
      "Content-Range": `bytes */${blob.size}`,
    });
  }
  const start = range.kind === "partial" ? range.start : 0;
  const end = range.kind === "partial" ? range.end : blob.size;
  headers["Content-Length"] = String(end - start);
  if (range.kind === "partial") headers["Content-Range"] = `bytes ${start}-${end - 1}/${blob.size}`;
  const status = range.kind === "partial" ? 206 : 200;
  if (c.req.method === "HEAD") return { response: new Response(null, { status, headers }), fullDownload: false };
  const body = await store.read(blob.sha256, { start, end });
  if (!body) throw new RegistryError("not_found", `blob ${blob.sha256} is missing from storage`);
  return { response: new Response(body, { status, headers }), fullDownload: start === 0 && end === blob.size };
}
