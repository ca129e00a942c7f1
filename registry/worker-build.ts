import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { galleryScript } from "./gallery/bundle.ts";
import { loadBaseModel } from "./base-model/artifacts.ts";
import { REFERENCE_ASSETS } from "./openapi/reference.ts";
import type { WorkerBuild } from "./worker.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Where wrangler.toml's `main` points. */
export const WORKER_OUT = join(ROOT, "dist", "worker", "worker.js");

/**
 * Bundles registry/worker.ts for workerd with what Node reads from disk baked in: the base model
 * spec (hash-checked against the manifest, as node.ts does), the gallery's script and Swagger UI.
 * Used by `wrangler deploy` (wrangler.toml's build command), the tests and the benchmark.
 */
export async function buildWorker(outfile = WORKER_OUT): Promise<{ outfile: string; bytes: number }> {
  const require = createRequire(import.meta.url);
  const swagger = dirname(require.resolve("swagger-ui-dist/package.json"));
  const referenceAssets: WorkerBuild["referenceAssets"] = {};
  for (const name of Object.keys(REFERENCE_ASSETS) as (keyof typeof REFERENCE_ASSETS)[]) referenceAssets[name] = await readFile(join(swagger, name), "utf8");
  const baked: WorkerBuild = { baseModel: loadBaseModel(), galleryScript: await galleryScript(), referenceAssets };
  const result = await build({
    stdin: {
      contents: `import { createWorker } from "./registry/worker.ts";\nexport default createWorker(${JSON.stringify(baked)});\n`,
      resolveDir: ROOT,
      sourcefile: "worker-entry.ts",
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    target: "es2022",
    minify: true,
    outfile,
    metafile: true,
    logLevel: "warning",
  });
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  return { outfile, bytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { outfile, bytes } = await buildWorker(process.argv[2]);
  console.error(`built ${outfile} (${(bytes / 1024 / 1024).toFixed(2)} MiB)`);
}
