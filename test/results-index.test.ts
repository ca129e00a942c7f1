import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { BENCHMARK_DIRS, EXPERIMENTS_DIR, INDEX, ROOT, benchmarks, experiments, renderIndex } from "./results-index.ts";

const SOURCES = ["README.md", "docs", "sdk", "registry", "gpu-runner", "test", "examples"];
// MotionBench on the ONNX engine is the CI smoke run's output, written to a temporary folder and not kept.
const NOT_KEPT = /^RESULTS-motionbench-onnx-cpu\./;
const SKIP = new Set(["node_modules", "runs", "artifacts", "experiments", "results", "__pycache__"]);

function* textFiles(path: string): Generator<string> {
  const st = readdirSync(path, { withFileTypes: true });
  for (const e of st) {
    const p = join(path, e.name);
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) yield* textFiles(p);
    } else if (/\.(md|ts|mjs|py|sh)$/.test(e.name)) yield p;
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
        for (const m of text.matchAll(/gpu-runner\/bench\/experiments\/(\d{4}-\d\d-\d\d-[a-z0-9-]+)/g))
          if (!known.has(`${EXPERIMENTS_DIR}/${m[1]}`)) missing.push(`${relative(ROOT, f)}: ${m[0]}`);
      }
    }
    assert.deepEqual(missing, [], "cited results that do not exist");
  });
});
