// Node 20's test runner takes no globs: find every *.test.ts under the project's parts and run them.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const ROOTS = ["sdk", "registry", "gpu-runner", "examples", "test"];
const SKIP = new Set(["node_modules", "model", "artifacts"]);

function find(dir) {
  let out = [];
  let entries = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory() && !SKIP.has(e.name)) out = out.concat(find(p));
    else if (e.isFile() && e.name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = ROOTS.flatMap(find)
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort();
const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...files], { stdio: "inherit" });
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
