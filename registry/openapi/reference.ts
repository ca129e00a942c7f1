import type { Hono } from "hono";
import type { AppEnv } from "../context.ts";

/** The files of swagger-ui-dist that /docs serves, by the name they are served under. */
export const REFERENCE_ASSETS = { "swagger-ui.css": "text/css; charset=utf-8", "swagger-ui-bundle.js": "text/javascript; charset=utf-8" } as const;
export type ReferenceAsset = keyof typeof REFERENCE_ASSETS;

// Everything the page loads comes from this registry: the OpenAPI document, the renderer, its styles.
// No validator badge (its default fetches swagger.io) and no external fonts.
const INIT = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#reference",
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: true,
  persistAuthorization: true,
  displayRequestDuration: true,
  defaultModelsExpandDepth: 0,
});`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>motion-lora registry API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<p style="font:14px system-ui;margin:1rem 1.5rem"><a href="/">← Gallery</a> · <a href="/openapi.json">openapi.json</a> · <a href="/docs/text">the same reference as plain HTML</a> · Authorize with <code>Bearer mlk_…</code> to try calls that need a key.</p>
<div id="reference"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>`;

const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * /docs: the OpenAPI reference rendered by Swagger UI (self-hosted from swagger-ui-dist) with a
 * try-it panel per endpoint; /docs/text keeps the plain-HTML reference for readers without script.
 */
export function referenceRoutes(app: Hono<AppEnv>, textPage: string, asset: (name: ReferenceAsset) => Promise<Uint8Array | null>) {
  app.get("/docs", (c) => c.html(PAGE, 200, { "Content-Security-Policy": CSP }));
  app.get("/docs/text", (c) => c.html(textPage));
  app.get("/docs/init.js", (c) => c.body(INIT, 200, { "Content-Type": "text/javascript; charset=utf-8" }));
  for (const [name, type] of Object.entries(REFERENCE_ASSETS) as [ReferenceAsset, string][]) {
    app.get(`/docs/${name}`, async (c) => {
      const bytes = await asset(name);
      if (!bytes) return c.text(`${name} is not installed (npm install swagger-ui-dist)`, 404);
      return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { "Content-Type": type, "Cache-Control": "public, max-age=86400" });
    });
  }
}
