// Tunes per minute against the batch size N on the torch engine: N reference clips tuned together
// (tuneMany: one batched training step for all N LoRAs, weights and AdamW on the device) against
// N = 1. The model is launch-bound, so a larger N should cost little more per step.
// Usage: npx tsx gpu-runner/evaluation/speed/batched.ts [--sizes 1,8,32] [--recipes default,naive-two-stage] [--define '{"name":{...TuneOptions}}']
//   [--tf32] [--out DIR] [--tag torch-h100]
// --recipes names BASELINES (gpu-runner/fym/tune.ts) or recipes --define adds, as MotionBench's --recipes does.
// Writes DIR/RESULTS-batched-<tag>.md and .json (default tag: torch-<device>).
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { TorchEngine } from "../../engine/torch-engine.ts";
import type { TuneOptions } from "../../fym/options.ts";
import { BASELINES, DEFAULT_TUNE } from "../../fym/recipes.ts";
import { tuneMany } from "../../fym/tune.ts";
import { loadMotionBench } from "../motionbench/motionbench-cases.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1,8,32" },
    recipes: { type: "string", default: "default,naive-two-stage" },
    define: { type: "string", default: "{}" },
    tf32: { type: "boolean", default: false },
    out: { type: "string", default: "gpu-runner/evaluation/results" },
    tag: { type: "string" },
  },
});
const recipes: Record<string, Partial<TuneOptions>> = { ...BASELINES, ...(JSON.parse(values.define!) as Record<string, Partial<TuneOptions>>) };
for (const r of values.recipes!.split(","))
  if (!recipes[r]) throw new Error(`unknown recipe '${r}': use ${Object.keys(recipes).join(", ")} or define it with --define`);
const engine = await TorchEngine.start({ tf32: values.tf32! });
const bench = loadMotionBench();
const rows: { recipe: string; n: number; spatialSteps: number; temporalSteps: number; samples: number; seconds: number; perMinute: number; stepMs: number }[] =
  [];
// Warm-up: the first tune of each shape captures its CUDA graphs.
for (const recipe of values.recipes!.split(",")) {
  for (const n of values.sizes!.split(",").map(Number)) {
    const jobs = Array.from({ length: n }, (_, i) => ({
      clip: bench[i % bench.length]!.clip,
      caption: bench[i % bench.length]!.caption,
      options: { ...recipes[recipe], seed: i, spatialSteps: 5, temporalSteps: 5 },
    }));
    await Promise.all(tuneMany(engine, jobs));
    const t0 = performance.now();
    const r = await Promise.all(
      tuneMany(
        engine,
        jobs.map((j) => ({ ...j, options: { ...recipes[recipe], seed: j.options.seed } })),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    const o = { ...DEFAULT_TUNE, ...recipes[recipe] };
    const stepMs = r[0]!.temporal.ms / o.temporalSteps;
    const samples = o.samplesPerStep ?? 1;
    rows.push({ recipe, n, spatialSteps: o.spatialSteps, temporalSteps: o.temporalSteps, samples, seconds, perMinute: (60 * n) / seconds, stepMs });
    console.log(JSON.stringify(rows.at(-1)));
  }
}
const lines = [
  `# Batched tuning on the torch engine (${engine.name}, ${engine.device})`,
  "",
  `${new Date().toISOString()} · whole tunes (the default recipe: ${DEFAULT_TUNE.spatialSteps} spatial + ${DEFAULT_TUNE.temporalSteps} temporal steps; recipes from gpu-runner/fym/tune.ts${values.define === "{}" ? "" : ` and ${values.define}`}), N reference clips tuned together in one batched step (tuneMany), after a warm-up that captures the CUDA graphs. One run each.`,
  "",
  "| recipe | steps (spatial + temporal) | samples / temporal step | N | wall s | tunes / min | temporal step ms | tunes/min vs N = 1 |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ...rows.map((r) => {
    const one = rows.find((x) => x.recipe === r.recipe && x.n === 1);
    return `| ${r.recipe} | ${r.spatialSteps} + ${r.temporalSteps} | ${r.samples} | ${r.n} | ${r.seconds.toFixed(1)} | ${r.perMinute.toFixed(1)} | ${r.stepMs.toFixed(1)} | ${one ? `${(r.perMinute / one.perMinute).toFixed(1)}×` : "–"} |`;
  }),
];
const name = `${values.out}/RESULTS-batched-${values.tag ?? `torch-${engine.device}`}`;
await writeFile(`${name}.md`, `${lines.join("\n")}\n`);
await writeFile(`${name}.json`, `${JSON.stringify({ at: new Date().toISOString(), engine: engine.name, rows }, null, 1)}\n`);
console.log(lines.join("\n"));
await engine.close();
