// Bundles the browser example (and with it the SDK) into one ES module for the page.
import { build } from "esbuild";

/** Writes main.js next to index.html in `outdir` (default: this folder). */
export async function buildBrowserExample(outdir = new URL(".", import.meta.url).pathname) {
  await build({
    entryPoints: [new URL("main.ts", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outfile: `${outdir}/main.js`,
    minify: true,
    logLevel: "warning",
  });
}

if (process.argv[1]?.endsWith("build.ts")) await buildBrowserExample();
