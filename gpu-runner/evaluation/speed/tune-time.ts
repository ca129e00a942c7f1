// Whole tunes of several recipes side by side on one engine, one reference clip: the time a user
// waits for a LoRA. Recipes run interleaved (A B C, A B C, ...) so a noisy machine slows them alike;
// the report gives each stage's wall time, the temporal step's median, and each recipe's ratio to
// the first one measured in the same rounds.
// Usage: npx tsx gpu-runner/evaluation/speed/tune-time.ts [--engine onnx|torch] [--recipes default,fym-sparse] [--define FILE|JSON]
//   [--rounds 1] [--case NAME] [--out DIR] [--tag onnx-cpu]
// Writes DIR/RESULTS-tune-time-<tag>.md and .json (default DIR: gpu-runner/evaluation/results).
import { readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { createEngine } from "../../engine/create.ts";
import { temporalFrames, type TuneOptions } from "../../fym/options.ts";
import { BASELINES, DEFAULT_TUNE } from "../../fym/recipes.ts";
import { tune } from "../../fym/tune.ts";
import { loadMotionBench } from "../motionbench/motionbench-cases.ts";

const { values } = parseArgs({
  options: {
    engine: { type: "string", default: "onnx" },
    recipes: { type: "string", default: "default,fym-sparse" },
    // JSON of named recipes ({"name": {...TuneOptions}}), or the path of a file holding it.
    define: { type: "string", default: "{}" },
    rounds: { type: "string", default: "1" },
    case: { type: "string" },
    out: { type: "string", default: "gpu-runner/evaluation/results" },
    tag: { type: "string" },
  },
});
const defined = JSON.parse(values.define!.trimStart().startsWith("{") ? values.define! : await readFile(values.define!, "utf8"));
const recipes: Record<string, Partial<TuneOptions>> = { ...BASELINES, ...(defined as Record<string, Partial<TuneOptions>>) };
const names = values.recipes!.split(",");
for (const r of names) if (!recipes[r]) throw new Error(`unknown recipe '${r}': use ${Object.keys(recipes).join(", ")} or define it with --define`);
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number ≥ 1; got ${values.rounds}`);

const bench = loadMotionBench();
const ref = values.case ? bench.find((b) => b.name === values.case) : bench.find((b) => b.category === "single-object" && b.ood);
if (!ref) throw new Error(`no MotionBench case '${values.case}': use one of ${bench.map((b) => b.name).join(", ")}`);

const engine = await createEngine(values.engine === "torch" ? "torch" : "onnx", "cpu");

interface Row {
  recipe: string;
  round: number;
  totalS: number;
  headsS: number;
  spatialS: number;
  temporalS: number;
  temporalSteps: number;
  frames: number;
  stepMs: number;
  load: number;
}
const rows: Row[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (let round = 0; round < rounds; round++) {
  for (const name of names) {
    const o: TuneOptions = { ...DEFAULT_TUNE, ...recipes[name] };
    const t0 = performance.now();
    const r = await tune(engine, ref.clip, ref.caption, o);
    const totalS = (performance.now() - t0) / 1000;
    const frames = temporalFrames(engine, o);
    const row: Row = {
      recipe: name,
      round,
      totalS,
      headsS: totalS - (r.spatial.ms + r.temporal.ms) / 1000,
      spatialS: r.spatial.ms / 1000,
      temporalS: r.temporal.ms / 1000,
      temporalSteps: o.temporalSteps * (o.samplesPerStep ?? 1),
      frames,
      stepMs: r.temporal.ms / o.temporalSteps,
      load: loadavg()[0]!,
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}

const fmt = (s: number) => (s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);
const first = median(rows.filter((r) => r.recipe === names[0]).map((r) => r.totalS));
const lines = [
  `# Whole tunes side by side (${engine.name}, ${cpus().length} cores)`,
  "",
  `${new Date().toISOString()} · MotionBench case ${ref.name} (${ref.clip.frames} frames of ${ref.clip.size}×${ref.clip.size}); recipes from gpu-runner/fym/recipes/${values.define === "{}" ? "" : ` and ${values.define}`}, run interleaved, ${rounds} round${rounds > 1 ? "s" : ""}; median over rounds. Load average (1 min) when each tune ended: ${rows.map((r) => r.load.toFixed(1)).join(", ")}.`,
  "",
  `| recipe | temporal steps × frames | whole tune | heads + setup | spatial stage | temporal stage | temporal step ms | vs ${names[0]} |`,
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ...names.map((name) => {
    const rs = rows.filter((r) => r.recipe === name);
    const m = (k: keyof Row) => median(rs.map((r) => r[k] as number));
    return `| ${name} | ${rs[0]!.temporalSteps} × ${rs[0]!.frames} | ${fmt(m("totalS"))} | ${fmt(m("headsS"))} | ${fmt(m("spatialS"))} | ${fmt(m("temporalS"))} | ${m("stepMs").toFixed(0)} | ${(m("totalS") / first).toFixed(2)}× |`;
  }),
];
const name = `${values.out}/RESULTS-tune-time-${values.tag ?? engine.name.split("+")[0]!.replace(":", "-")}`;
await writeFile(`${name}.md`, `${lines.join("\n")}\n`);
await writeFile(
  `${name}.json`,
  `${JSON.stringify({ at: new Date().toISOString(), engine: engine.name, case: ref.name, recipes: Object.fromEntries(names.map((n) => [n, recipes[n]])), rows }, null, 1)}\n`,
);
console.log(lines.join("\n"));
await engine.close?.();
