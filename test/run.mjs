// Node 20's test runner takes no globs: find every *.test.ts under the project's parts and run them.
// The registry's tests (and the SDK client's, which drive a registry) run twice: against the Node
// registry (libsql + files) and against the Worker build under workerd (D1 + R2), one target a pass.
//   node test/run.mjs [--target node|workerd] [path filters...]
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOTS = ["sdk", "registry", "gpu-runner", "examples", "test"];
const SKIP = new Set(["node_modules", "model", "artifacts"]);
/** Files that start a registry through test/helpers/registry.ts and so run on each target. */
const BOTH_TARGETS = ["registry/", "sdk/client/", "gpu-runner/runner/transfer-samples.test.ts"];

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

const args = process.argv.slice(2);
const at = args.indexOf("--target");
const only = at >= 0 ? args.splice(at, 2)[1] : null;
const files = ROOTS.flatMap(find)
  .filter((f) => args.length === 0 || args.some((x) => f.includes(x)))
  .sort();
// A test starts a registry through test/helpers/registry.ts, directly or through the runner tests' fixtures (test/helpers/runner.ts).
const STARTS_REGISTRY = /\b(startTestRegistry|startRunnerTestRegistry|startTuneFixture)\(/;
const workerdFiles = files.filter((f) => BOTH_TARGETS.some((p) => f.startsWith(p)) && STARTS_REGISTRY.test(readFileSync(f, "utf8")));

const run = (target, list) => {
  if (list.length === 0) return 0;
  console.log(`# target ${target}: ${list.length} files`);
  const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...list], {
    stdio: "inherit",
    // Two files at once share the cores: ONNX threads that spin waste them (gpu-runner/engine/providers.ts).
    env: { MOTION_LORA_ORT_SPINNING: "0", ...process.env, MOTION_LORA_TEST_TARGET: target },
  });
  return r.signal ? 1 : (r.status ?? 1);
};

let code = 0;
if (only !== "workerd") code ||= run("node", files);
if (only !== "node") code = run("workerd", workerdFiles) || code;
process.exit(code);
