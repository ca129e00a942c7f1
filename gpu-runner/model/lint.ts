// Ruff over the model package, through Ruff's own WebAssembly build (the npm package
// @astral-sh/ruff-wasm-nodejs): the machines this project runs on reach npm but not PyPI, and Debian's
// bookworm has no ruff. The settings are pyproject.toml's [tool.ruff] (line-length, target-version,
// [tool.ruff.lint] select), read here so they live in one place.
//   npx tsx gpu-runner/model/lint.ts        (part of `npm run lint`; exits 1 on any finding)
import { PositionEncoding, Workspace } from "@astral-sh/ruff-wasm-nodejs";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const toml = readFileSync(join(HERE, "pyproject.toml"), "utf8");
const value = (key: string) => new RegExp(`^${key}\\s*=\\s*(.+)$`, "m").exec(toml)?.[1]?.trim();
const settings = {
  "line-length": Number(value("line-length")),
  "target-version": JSON.parse(value("target-version") ?? '"py311"'),
  lint: { select: JSON.parse(value("select") ?? '["E", "F", "W"]') },
};

const files: string[] = [];
const walk = (dir: string) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!["__pycache__", "runs"].includes(e.name)) walk(p);
    } else if (e.name.endsWith(".py")) files.push(p);
  }
};
walk(HERE);

const ruff = new Workspace(settings, PositionEncoding.Utf16);
let findings = 0;
for (const file of files.sort()) {
  for (const d of ruff.check(readFileSync(file, "utf8")) as { code: string | null; message: string; start_location: { row: number; column: number } }[]) {
    findings++;
    console.log(`${relative(process.cwd(), file)}:${d.start_location.row}:${d.start_location.column}: ${d.code ?? "syntax"} ${d.message}`);
  }
}
console.log(
  `ruff ${Workspace.version()} (${settings.lint.select.join(", ")}, line length ${settings["line-length"]}): ${files.length} files, ${findings} findings`,
);
process.exit(findings ? 1 : 0);
