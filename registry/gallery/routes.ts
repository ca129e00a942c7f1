import type { Context, Hono, Next } from "hono";
import { LoraListQuery, Sha256 } from "../../sdk/schema/index.ts";
import { anonymous } from "../auth/keys.ts";
import { serveBlob } from "../blobs/serve.ts";
import type { AppEnv, Services } from "../context.ts";
import { RegistryError } from "../http/errors.ts";
import { toLora } from "../loras/rows.ts";
import { favicon } from "./favicon.ts";
import { listPage, loraPage, notFoundPage, tooManyPage } from "./pages.ts";
import { GALLERY_CSS } from "./style.ts";

const PAGE_SIZE = 24;
// Pages change with the catalog; the browser revalidates them. Media are content-addressed.
// The CSP is defence in depth behind the README renderer: no inline script, no plugins, no framing.
const PAGE_HEADERS = {
  "Cache-Control": "no-cache",
  "X-Content-Type-Options": "nosniff",
  "Content-Security-Policy":
    "default-src 'self'; img-src 'self' blob: https: http:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
};

/**
 * The gallery: server-rendered HTML of the public catalog, for people who browse motion by looking.
 * It reads as an anonymous visitor would, so a private LoRA never appears here.
 */
export function galleryRoutes(app: Hono<AppEnv>, s: Services, address: (c: Context) => string, script?: () => Promise<string>) {
  const visitor = () => anonymous(s.config.anonymousRateLimitPerMinute);

  // Outside /v1, so the API's limiter does not see these: one bucket per client address of its own.
  const limited = async (c: Context, next: Next) => {
    const wait = await s.limiter.take(`gallery:${address(c)}`, s.config.galleryRateLimitPerMinute, Date.now());
    if (wait > 0) return c.html(tooManyPage(wait), 429, { ...PAGE_HEADERS, "Retry-After": String(wait) });
    await next();
  };
  for (const path of ["/", "/loras/*", "/media/*", "/gallery.js"]) app.use(path, limited);

  if (script) {
    app.get("/gallery.js", async (c) =>
      c.body(await script(), 200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff" }),
    );
  }

  app.get("/favicon.ico", async (c) =>
    c.body((await favicon()) as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": "image/png",
      "Cache-Control": "public, max-age=86400",
      "X-Content-Type-Options": "nosniff",
    }),
  );

  app.get("/gallery.css", (c) => c.body(GALLERY_CSS, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=3600" }));

  app.get("/", async (c) => {
    const parsed = LoraListQuery.safeParse({ ...c.req.query(), limit: PAGE_SIZE });
    // A hand-edited URL with a bad filter shows the whole catalog rather than an error page.
    const q = parsed.success ? parsed.data : LoraListQuery.parse({ limit: PAGE_SIZE });
    const page = await s.loras.list(visitor(), q).catch((e) => {
      if (e instanceof RegistryError && e.code === "validation_failed") return s.loras.list(visitor(), { ...q, cursor: undefined });
      throw e;
    });
    const covers = await s.loras.latestCovers(page.data);
    const cards = page.data.map((lora) => ({ lora, previewSha256: covers.get(lora.id)?.preview ?? null, transfer: covers.get(lora.id)?.transfer ?? null }));
    return c.html(listPage(cards, q, page.next_cursor), 200, PAGE_HEADERS);
  });

  app.get("/loras/:owner/:name", async (c) => {
    const { owner, name } = c.req.param();
    try {
      const row = await s.loras.find(visitor(), owner, name);
      const versions = await s.loras.versions(visitor(), owner, name, 20);
      const lora = toLora(row, true);
      const readmeHtml = row.readme ? await s.loras.readmeHtml(row) : "";
      return c.html(loraPage({ origin: s.config.publicUrl, lora, versions: versions.data, readmeHtml, tryIt: script !== undefined }), 200, PAGE_HEADERS);
    } catch (e) {
      if (e instanceof RegistryError && e.code === "not_found") return c.html(notFoundPage(`The motion LoRA ${owner}/${name}`), 404, PAGE_HEADERS);
      throw e;
    }
  });

  // Images of public LoRA versions, outside /v1 so a page of previews does not spend a visitor's
  // API rate limit. Only GIF and PNG, never sniffed into anything else, so a blob cannot become a
  // page on the gallery's origin.
  app.get("/media/:sha256", async (c) => {
    const sha = Sha256.safeParse(c.req.param("sha256"));
    // The primary-key lookup and the type first: a made-up hash never reaches the visibility query.
    const row = sha.success ? await s.blobs.get(sha.data) : undefined;
    const image = row && (row.contentType === "image/gif" || row.contentType === "image/png");
    if (!row || !image || !(await s.blobs.canRead(visitor(), row.sha256))) return c.html(notFoundPage("This image"), 404, PAGE_HEADERS);
    const { response } = await serveBlob(c, s.store, row);
    // The bytes never change, but a LoRA made private must stop being served from caches soon.
    response.headers.set("Cache-Control", "public, max-age=300");
    response.headers.set("X-Content-Type-Options", "nosniff");
    response.headers.set("Content-Security-Policy", "default-src 'none'");
    return response;
  });
}
