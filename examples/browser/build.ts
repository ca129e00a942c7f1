// Bundles the browser example (and with it the SDK) into one ES module for the page.
import { build } from "esbuild";

export interface BuildOptions {
  /** The page's script (default: main.ts here); the package test bundles a copy inside a project that installed the SDK's tarball. */
  entry?: string;
  /** Resolve "@motion-lora/sdk" as an installed package (node_modules), not through this repository's tsconfig paths to its source. */
  asInstalled?: boolean;
}

/** Writes main.js next to index.html in `outdir` (default: this folder); returns its minified size in bytes. */
export async function buildBrowserExample(outdir = new URL(".", import.meta.url).pathname, opts: BuildOptions = {}): Promise<number> {
  const result = await build({
    entryPoints: [opts.entry ?? new URL("main.ts", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outfile: `${outdir}/main.js`,
    minify: true,
    metafile: true,
    logLevel: "warning",
    ...(opts.asInstalled ? { tsconfigRaw: {} } : {}),
  });
  return Object.values(result.metafile.outputs)[0]!.bytes;
}

if (process.argv[1]?.endsWith("build.ts")) await buildBrowserExample();
