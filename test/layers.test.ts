// The layout's import rules, checked on the code as it is: which part may import which, and no
// import circles. A violation names the importing file, the line and the rule it breaks.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PARTS = ["sdk", "registry", "gpu-runner", "examples", "bin"];

interface Edge {
  from: string;
  to: string;
  line: number;
}

/** Every .ts/.js source under the parts: tests may reach across to start real parts; the Python model and the artifacts are no TypeScript. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return ["node_modules", "artifacts", "model"].includes(e.name) ? [] : sources(p);
    return /\.(ts|js|mjs)$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [p] : [];
  });
}

// Static imports and re-exports (across lines), and dynamic import() of a literal path.
const IMPORT = /(?:^|\n)\s*(?:import|export)\s(?:[^;"'`]*?\sfrom\s)?\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** The project-internal imports of one file, as repository-relative paths. */
export function importsOf(file: string, text: string): Edge[] {
  const edges: Edge[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]!;
    if (!spec.startsWith(".")) continue;
    const line = text.slice(0, m.index + m[0].length).split("\n").length;
    edges.push({ from: file, to: relative(ROOT, resolve(ROOT, dirname(file), spec)), line });
  }
  return edges;
}

const partOf = (path: string) => path.split("/")[0]!;

/** Which parts each part may import: the SDK is fetch-only and publishable; the registry and the runner meet only through HTTP. */
const MAY_IMPORT: Record<string, string[]> = {
  sdk: ["sdk"],
  registry: ["registry", "sdk"],
  "gpu-runner": ["gpu-runner", "sdk"],
  examples: ["examples", "sdk", "registry", "gpu-runner"],
  bin: ["sdk", "registry", "gpu-runner"],
};

/** Violations of MAY_IMPORT, one line each. */
export function partViolations(edges: Edge[]): string[] {
  return edges
    .filter((e) => !(MAY_IMPORT[partOf(e.from)] ?? []).includes(partOf(e.to)))
    .map((e) => `${e.from}:${e.line} imports ${e.to}: ${partOf(e.from)}/ may import only ${MAY_IMPORT[partOf(e.from)]?.join(", ")}`);
}

/**
 * Inside the runner, rooms stack: `core/` (the clip layout, the world's palette, the seeded RNG, the
 * error base) under the engines, LoRA files, the method and the job loop. FYM runs on any Engine and
 * knows neither the job loop nor its evaluation; the metrics score clips without knowing how they
 * were made, and the job loop uses them to score a tune's transfer samples; MotionBench and the speed
 * benchmarks may use everything. A file at gpu-runner/'s top
 * level, or in a folder not listed here, is a violation: every module has a room.
 */
export const RUNNER_MAY_IMPORT: Record<string, string[]> = {
  core: ["core"],
  engine: ["core", "engine"],
  lora: ["core", "engine", "lora"],
  fym: ["core", "engine", "lora", "fym"],
  runner: ["core", "engine", "lora", "fym", "evaluation/metrics", "runner"],
  "evaluation/metrics": ["core", "evaluation/metrics"],
  "evaluation/motionbench": ["core", "engine", "lora", "fym", "runner", "evaluation/metrics", "evaluation/motionbench"],
  "evaluation/speed": ["core", "engine", "lora", "fym", "runner", "evaluation/metrics", "evaluation/motionbench", "evaluation/speed"],
};

/** A gpu-runner file's room: its folder under gpu-runner/, and under evaluation/ the folder below that ("." for the top level). */
export const roomOf = (path: string) => {
  const p = path.split("/");
  if (p.length === 2) return ".";
  return p[1] === "evaluation" && p.length > 3 ? `evaluation/${p[2]}` : p[1]!;
};

/** Violations of RUNNER_MAY_IMPORT among gpu-runner's own files, one line each. */
export function runnerViolations(edges: Edge[]): string[] {
  return edges
    .filter((e) => partOf(e.from) === "gpu-runner" && partOf(e.to) === "gpu-runner")
    .filter((e) => !(RUNNER_MAY_IMPORT[roomOf(e.from)] ?? []).includes(roomOf(e.to)))
    .map(
      (e) =>
        `${e.from}:${e.line} imports ${e.to}: gpu-runner/${roomOf(e.from)} may import only ${RUNNER_MAY_IMPORT[roomOf(e.from)]?.join(", ") ?? "(a file outside the rooms: move it into one, or add its room to RUNNER_MAY_IMPORT)"}`,
    );
}

/** Import circles (strongly connected groups of more than one file, or a file importing itself). */
export function circles(edges: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  let n = 0;
  // Tarjan's algorithm; the graph has a few hundred files, so recursion depth is no concern.
  const visit = (v: string) => {
    index.set(v, n);
    low.set(v, n++);
    stack.push(v);
    on.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || (next.get(v) ?? []).includes(v)) found.push(group.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return found;
}

const edges = PARTS.flatMap(sources).flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), "utf8")));

describe("the layout's import rules", () => {
  it("reads the imports it checks (a guard against a parser that sees nothing)", () => {
    assert.ok(edges.length > 300, `only ${edges.length} imports found`);
    assert.ok(edges.some((e) => e.from === "bin/motion-lora.js" && e.to === "registry/cli/commands.ts"));
    const multiLine = importsOf("sdk/x.ts", 'import {\n  a,\n  b,\n} from "../registry/app.ts";\nconst m = await import("../gpu-runner/y.ts");');
    assert.deepEqual(partViolations(multiLine).length, 2);
  });

  it("no part imports one it must not: the SDK stays fetch-only; registry and runner meet over HTTP", () => {
    assert.deepEqual(partViolations(edges), []);
  });

  it("inside the runner, each room imports only the rooms below it", () => {
    const forbidden: [string, string][] = [
      ["gpu-runner/engine/x.ts", "gpu-runner/fym/tune.ts"],
      ["gpu-runner/fym/x.ts", "gpu-runner/runner/execute.ts"],
      ["gpu-runner/fym/x.ts", "gpu-runner/evaluation/metrics/fidelity.ts"],
      ["gpu-runner/lora/x.ts", "gpu-runner/fym/tune.ts"],
      ["gpu-runner/runner/x.ts", "gpu-runner/evaluation/motionbench/motionbench-cases.ts"],
      ["gpu-runner/evaluation/metrics/x.ts", "gpu-runner/engine/engine.ts"],
      ["gpu-runner/core/x.ts", "gpu-runner/engine/engine.ts"],
      ["gpu-runner/x.ts", "gpu-runner/core/rng.ts"],
    ];
    for (const [from, to] of forbidden) assert.equal(runnerViolations([{ from, to, line: 1 }]).length, 1, `${from} → ${to} is found`);
    assert.deepEqual(runnerViolations([{ from: "gpu-runner/evaluation/speed/x.ts", to: "gpu-runner/fym/tune.ts", line: 1 }]), []);
    assert.deepEqual(runnerViolations(edges), []);
  });

  it("every TypeScript module of gpu-runner/ is in a room the rules name", () => {
    const outside = PARTS.flatMap(sources)
      .filter((f) => partOf(f) === "gpu-runner" && !f.startsWith("gpu-runner/container/"))
      .filter((f) => !(roomOf(f) in RUNNER_MAY_IMPORT));
    assert.deepEqual(outside, []);
  });

  it("no import circles", () => {
    assert.deepEqual(
      circles([
        { from: "a", to: "b", line: 1 },
        { from: "b", to: "a", line: 1 },
      ]),
      [["a", "b"]],
      "finds a circle",
    );
    assert.deepEqual(circles(edges), []);
  });
});
