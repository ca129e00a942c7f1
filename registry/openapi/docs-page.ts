import type { Operation } from "./api.ts";

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** A self-contained API reference page (no scripts, no CDN) rendered from the same operations. */
export function docsPage(operations: Operation[], openapi: { paths: Record<string, Record<string, unknown>> }): string {
  const byTag = new Map<string, Operation[]>();
  for (const op of operations) byTag.set(op.tag, [...(byTag.get(op.tag) ?? []), op]);
  const sections = [...byTag]
    .map(([tag, ops]) => {
      const items = ops
        .map((op) => {
          const path = op.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
          const spec = openapi.paths[path]?.[op.method] as { requestBody?: unknown; parameters?: unknown[]; responses?: unknown } | undefined;
          const detail = JSON.stringify({ parameters: spec?.parameters, requestBody: spec?.requestBody, responses: spec?.responses }, null, 2);
          return `<details id="${esc(op.method + path)}"><summary><code class="m ${op.method}">${op.method.toUpperCase()}</code> <code>${esc(path)}</code> — ${esc(op.summary)} <small>scope: ${esc([op.scope].flat().join(" or "))}</small></summary><pre>${esc(detail)}</pre></details>`;
        })
        .join("\n");
      return `<h2>${esc(tag)}</h2>\n${items}`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>motion-lora registry API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
details{border:1px solid #ddd;border-radius:6px;margin:.4rem 0;padding:.4rem .6rem}
summary{cursor:pointer} pre{overflow:auto;background:#f6f6f6;padding:.6rem;font-size:12px}
.m{display:inline-block;min-width:4.2em;font-weight:600} .get{color:#0a7d32}.post{color:#0b5cad}.put{color:#8a5a00}.patch{color:#6b3fa0}.delete{color:#b3261e}
small{color:#777}
</style></head><body>
<h1>motion-lora registry API</h1>
<p>Every request and response below is validated by the zod schemas in <code>sdk/schema</code>. Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).
Authenticate with <code>Authorization: Bearer mlk_…</code>. Errors are <code>{ "error": { "code", "message", "details?", "requestId" } }</code>.</p>
${sections}
</body></html>`;
}
