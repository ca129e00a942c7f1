// Copies the files the runner needs from a checkout (SRC) into the image's tree (DEST), and nothing
// else: no registry/, no tests, no benchmarks, no bench results but the ones a recipe reads (a LoRA
// tuned with a recipe is stamped with its MotionBench figures, read from its evidence file).
//   node gpu-runner/container/runner-tree.mjs SRC DEST [--with-model]
// --with-model adds the Python package the torch process runs (gpu-runner/model/fymnet).
import { cpSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

const [src, dest, ...flags] = process.argv.slice(2);
if (!src || !dest) {
  console.error("usage: node runner-tree.mjs SRC DEST [--with-model]");
  process.exit(2);
}
const withModel = flags.includes("--with-model");

// Tests, Python caches and the SDK's build output are never run by the runner.
const skip = (path) => {
  const name = basename(path);
  return name.endsWith(".test.ts") || name === "__pycache__" || name === "dist" || name === "node_modules";
};
const copy = (path) => {
  mkdirSync(dirname(join(dest, path)), { recursive: true });
  cpSync(join(src, path), join(dest, path), { recursive: true, filter: (p) => !skip(p) });
};

// The command line, its package.json (version, "type": "module") and the compiler settings tsx reads.
for (const f of ["bin/motion-lora.js", "package.json", "tsconfig.json", "sdk"]) copy(f);
// The runner's part of gpu-runner/ (the job loop imports evaluation/metrics/ alone, to score a tune's transfer samples).
for (const d of ["core", "runner", "engine", "fym", "lora", "evaluation/metrics"]) copy(`gpu-runner/${d}`);
// The model: graphs, weights, vocabulary, grammar, manifest; MotionBench's cases are the benchmark's.
for (const f of readdirSync(join(src, "gpu-runner/artifacts")).filter((f) => f !== "motionbench")) copy(`gpu-runner/artifacts/${f}`);
// Each evidence file a recipe names (paths from the repository root, as gpu-runner/fym/recipes.ts reads them).
const recipes = join(src, "gpu-runner/fym/recipes");
const evidence = new Set(
  readdirSync(recipes)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(join(recipes, f), "utf8")).evidence?.file)
    .filter(Boolean),
);
for (const f of evidence) copy(f);
if (withModel) copy("gpu-runner/model/fymnet");
console.log(`runner tree in ${dest}: evidence ${[...evidence].join(", ")}${withModel ? "; with gpu-runner/model/fymnet" : ""}`);
