// The default recipe and the benchmark it cites must agree: a LoRA tuned with the defaults is stamped
// with DEFAULT_TUNE_BENCHMARK, so those figures and the recipe must be the ones of the committed run.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { BATCHED_DEFAULT, BATCHED_DEFAULT_BENCHMARK, DEFAULT_TUNE, DEFAULT_TUNE_BENCHMARK, defaultBenchmarkOf, defaultTuneFor, recipeName } from "./tune.ts";

type Interval = { mean: number; lo: number; hi: number };
const results = JSON.parse(readFileSync(new URL(`../../${DEFAULT_TUNE_BENCHMARK.file.replace(/\.md$/, ".json")}`, import.meta.url), "utf8")) as {
  setup: { tune: Record<string, unknown>; recipes: Record<string, Record<string, unknown>>; genSteps: number };
  summary: ({ config: string; category: string; split: string } & Record<string, Interval>)[];
};
const row = (config: string, split: string) => results.summary.find((s) => s.config === config && s.category === "all" && s.split === split)!;
const r2 = (x: number) => Math.round(x * 100) / 100;

/** The figures a LoRA of a default form carries are those its cited run reports (`at` reads that run's rows). */
function assertStamped(bench: typeof DEFAULT_TUNE_BENCHMARK | typeof BATCHED_DEFAULT_BENCHMARK, at: typeof row) {
  for (const [split, key] of [
    ["all", "all"],
    ["ID", "id"],
    ["OOD", "ood"],
  ] as const) {
    const f = at(bench.config, split).fidelity!;
    assert.deepEqual(bench.motion_fidelity[key], [r2(f.mean), r2(f.lo), r2(f.hi)], `motion fidelity ${split}`);
  }
  const integrity = at(bench.config, "all").integrity!;
  assert.deepEqual(bench.appearance_integrity, [r2(integrity.mean), r2(integrity.lo), r2(integrity.hi)]);
  assert.equal(bench.leakage, r2(at(bench.config, "all").leakage!.mean));
  assert.equal(bench.no_lora, r2(at("floor", "all").fidelity!.mean));
}

describe("default recipe", () => {
  const [recipe, variant] = DEFAULT_TUNE_BENCHMARK.config.split("@") as [string, string | undefined];

  it("is the recipe the cited MotionBench run measured under the config it names", () => {
    const ran = { ...results.setup.tune, ...results.setup.recipes[recipe] };
    for (const [k, v] of Object.entries(DEFAULT_TUNE)) {
      if (k === "seed" || k === "applyUntil") continue;
      assert.deepEqual(ran[k], v, `DEFAULT_TUNE.${k} differs from the benchmarked run of ${recipe}`);
    }
    // applyUntil is how the LoRA is used: the run's @early<k> generation variant, k of its steps.
    const early = variant ? Number(/^early(\d+)$/.exec(variant)?.[1]) : results.setup.genSteps;
    assert.equal(early / results.setup.genSteps, DEFAULT_TUNE.applyUntil ?? 1, "applyUntil is the benchmarked share of sampling steps");
  });

  it("stamps the figures of that run", () => {
    assertStamped(DEFAULT_TUNE_BENCHMARK, row);
    assert.equal(DEFAULT_TUNE_BENCHMARK.naive_two_stage, r2(row("naive-two-stage", "all").fidelity!.mean));
  });

  it("names a recipe default only when every option but the seed is the default", () => {
    assert.equal(recipeName({ ...DEFAULT_TUNE, seed: 9 }), "default");
    assert.equal(recipeName({ ...DEFAULT_TUNE, temporalSteps: 400 }), "custom");
    assert.equal(recipeName({ ...DEFAULT_TUNE, sampling: "strided" }), "custom");
    assert.equal(recipeName({ ...DEFAULT_TUNE, appearanceAug: undefined }), "custom", "an absent option means its off value, not the default's");
    assert.equal(recipeName({ ...DEFAULT_TUNE, samplesPerStep: 1 }), "default", "one sample a step is what an absent samplesPerStep means");
    assert.equal(recipeName({ ...DEFAULT_TUNE, samplesPerStep: 2 }), "custom");
    assert.equal(recipeName({ ...DEFAULT_TUNE, ...BATCHED_DEFAULT, seed: 3 }), "default", "the batched form is the default too");
    assert.equal(recipeName({ ...DEFAULT_TUNE, samplesPerStep: 4 }), "custom", "4 samples × 2000 steps is not");
  });
});

describe("the default's batched form (engines with a batched trainer)", () => {
  const file = JSON.parse(
    readFileSync(new URL(`../../${BATCHED_DEFAULT_BENCHMARK.file.replace(/\.md$/, ".json")}`, import.meta.url), "utf8"),
  ) as typeof results;
  const at = (config: string, split: string) => file.summary.find((s) => s.config === config && s.category === "all" && s.split === split)!;

  it("is the recipe the cited run measured, beside the one-sample default it replaces", () => {
    const ran = { ...file.setup.tune, ...file.setup.recipes[BATCHED_DEFAULT_BENCHMARK.config] };
    for (const [k, v] of Object.entries({ ...DEFAULT_TUNE, ...BATCHED_DEFAULT })) {
      if (k === "seed" || k === "applyUntil") continue;
      assert.deepEqual(ran[k], v, `${k} differs from the benchmarked run`);
    }
    assert.ok("default" in file.setup.recipes || file.summary.some((s) => s.config === "default"), "the same run measured the one-sample default");
  });

  it("stamps the figures of that run", () => assertStamped(BATCHED_DEFAULT_BENCHMARK, at));

  it("applies where the engine batches and the job leaves the temporal steps to the recipe", () => {
    const torchLike = { createTrainer: async () => ({}) as never };
    assert.equal(defaultTuneFor(torchLike).samplesPerStep, 4);
    assert.equal(defaultTuneFor(torchLike).temporalSteps, 600);
    assert.deepEqual(defaultTuneFor(torchLike, { temporalSteps: 2000 }), DEFAULT_TUNE, "a job's own step count means one-sample steps");
    assert.deepEqual(defaultTuneFor({}), DEFAULT_TUNE, "ONNX keeps 1 × 2000");
    assert.equal(defaultBenchmarkOf({ ...DEFAULT_TUNE, ...BATCHED_DEFAULT }), BATCHED_DEFAULT_BENCHMARK);
    assert.equal(defaultBenchmarkOf(DEFAULT_TUNE), DEFAULT_TUNE_BENCHMARK);
  });
});
