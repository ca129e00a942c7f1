import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { BENCHMARK_DIRS, EXPERIMENTS_DIR, INDEX, ROOT, benchmarks, experiments, renderIndex } from "./results-index.ts";

const SOURCES = ["README.md", "docs", "sdk", "registry", "gpu-runner", "test", "examples"];
// README.md and docs/ARCHITECTURE.md are merged by the project's lead; their paths are checked by review.
const CITING = [
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
  "README.md",
  "sdk",
  "registry",
  "gpu-runner",
  "test",
  "examples",
  "package.json",
];
// MotionBench on the ONNX engine is the CI smoke run's output, written to a temporary folder and not kept.
const NOT_KEPT = /^RESULTS-motionbench-onnx-cpu\./;
const SKIP = new Set(["node_modules", "runs", "artifacts", "experiments", "results", "__pycache__"]);

function* textFiles(path: string): Generator<string> {
  const st = readdirSync(path, { withFileTypes: true });
  for (const e of st) {
    const p = join(path, e.name);
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) yield* textFiles(p);
    } else if (/\.(md|ts|mjs|py|sh|json)$/.test(e.name)) yield p;
  }
}

describe("the results index", () => {
  it("is current: docs/results.md is what npm run results:index makes", () => {
    assert.equal(readFileSync(join(ROOT, INDEX), "utf8"), renderIndex(), "run `npm run results:index` and commit docs/results.md");
  });

  it("lists every benchmark with its command and every experiment with its results", () => {
    assert.ok(benchmarks().length >= 7);
    assert.ok(experiments().every((e) => e.title));
  });

  it("every results file that code or docs cite exists", () => {
    const known = new Set([...BENCHMARK_DIRS.flatMap((d) => readdirSync(join(ROOT, d))), ...experiments().map((e) => `${EXPERIMENTS_DIR}/${e.name}`)]);
    const missing: string[] = [];
    for (const top of SOURCES) {
      const files = top.endsWith(".md") ? [join(ROOT, top)] : [...textFiles(join(ROOT, top))];
      for (const f of files) {
        const text = readFileSync(f, "utf8");
        for (const m of text.matchAll(/RESULTS-[A-Za-z0-9-]+\.(md|json)/g))
          if (!known.has(m[0]) && !NOT_KEPT.test(m[0])) missing.push(`${relative(ROOT, f)}: ${m[0]}`);
        for (const m of text.matchAll(new RegExp(`${EXPERIMENTS_DIR}/(\\d{4}-\\d\\d-\\d\\d-[a-z0-9-]+)`, "g")))
          if (!known.has(`${EXPERIMENTS_DIR}/${m[1]}`)) missing.push(`${relative(ROOT, f)}: ${m[0]}`);
      }
    }
    assert.deepEqual(missing, [], "cited results that do not exist");
  });

  // Tests may name made-up paths; a results file records the paths of its own run.
  it("every gpu-runner/ path that docs, scripts and comments name exists (a moved file leaves no stale citation)", () => {
    const missing: string[] = [];
    for (const top of CITING) {
      const files = /\.(md|json)$/.test(top) ? [join(ROOT, top)] : [...textFiles(join(ROOT, top))].filter((f) => !/\.test\.ts$|\/RESULTS[^/]*$/.test(f));
      for (const f of files)
        for (const m of readFileSync(f, "utf8").matchAll(/gpu-runner\/[A-Za-z0-9_./<>*{},-]*[A-Za-z0-9_/]/g))
          if (!/[<>*{]|YYYY/.test(m[0]) && !existsSync(join(ROOT, m[0]))) missing.push(`${relative(ROOT, f)}: ${m[0]}`);
    }
    assert.deepEqual(missing, [], "paths that no longer exist");
  });
});
