import { build } from "esbuild";

let script: Promise<string> | null = null;

/**
 * The "Try it" panel's script with the SDK, bundled for browsers once, on first request (Node: the
 * registry runs from source; a Workers build would bundle it at deploy time instead).
 */
export function galleryScript(): Promise<string> {
  script ??= build({
    entryPoints: [new URL("try-it.ts", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    write: false,
    logLevel: "silent",
  }).then((r) => r.outputFiles[0]!.text);
  return script;
}
