// Recipes are files (fym/recipes/) and a LoRA's benchmark stamp is read from its recipe's evidence:
// these tests hold the default to the run it cites, and the stamp to what LoRAs carried before.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { RecipeName } from "../../sdk/schema/jobs.ts";
import { BASELINES, BATCHED_DEFAULT, benchmarkStamp, DEFAULT_TUNE, defaultBenchmarkOf, defaultTuneFor, RECIPES, recipe, recipeName } from "./recipes.ts";

type Interval = { mean: number; lo: number; hi: number };
type Results = {
  setup: { tune: Record<string, unknown>; recipes: Record<string, Record<string, unknown>>; genSteps: number };
  summary: ({ config: string; category: string; split: string } & Record<string, Interval>)[];
};
const evidence = (name: string) => {
  const r = recipe(name);
  return { ...r.evidence!, results: JSON.parse(readFileSync(new URL(`../../${r.evidence!.file}`, import.meta.url), "utf8")) as Results };
};

describe("default recipe", () => {
  const { config, results } = evidence("default");
  const [ran, variant] = config.split("@") as [string, string | undefined];

  it("is the recipe the cited MotionBench run measured under the config it names", () => {
    const options = { ...results.setup.tune, ...results.setup.recipes[ran] };
    for (const [k, v] of Object.entries(DEFAULT_TUNE)) {
      if (k === "seed" || k === "applyUntil") continue;
      assert.deepEqual(options[k], v, `default.json's ${k} differs from the benchmarked run of ${ran}`);
    }
    // applyUntil is how the LoRA is used: the run's @early<k> generation variant, k of its steps.
    const early = variant ? Number(/^early(\d+)$/.exec(variant)?.[1]) : results.setup.genSteps;
    assert.equal(early / results.setup.genSteps, DEFAULT_TUNE.applyUntil ?? 1, "applyUntil is the benchmarked share of sampling steps");
  });

  it("stamps the figures of that run: the same stamp a default LoRA carried when they were copied into code", () => {
    assert.deepEqual(benchmarkStamp(recipe("default")), {
      file: "gpu-runner/evaluation/results/RESULTS-motionbench-torch-h100.md",
      config: "naive-aug@early10",
      motion_fidelity: { all: [0.68, 0.64, 0.72], id: [0.71, 0.65, 0.76], ood: [0.66, 0.61, 0.72] },
      no_lora: 0.1,
      naive_two_stage: 0.62,
      appearance_integrity: [0.93, 0.9, 0.96],
      leakage: 0.04,
    });
  });

  it("says why for every option it sets", () => {
    const notes = JSON.parse(readFileSync(new URL("./recipes/default.json", import.meta.url), "utf8")).notes as Record<string, string>;
    assert.deepEqual(Object.keys(notes).sort(), Object.keys(DEFAULT_TUNE).sort());
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
  const { config, results } = evidence("default-batched");

  it("is the recipe the cited run measured, beside the one-sample default it replaces", () => {
    const ran = { ...results.setup.tune, ...results.setup.recipes[config] };
    for (const [k, v] of Object.entries({ ...DEFAULT_TUNE, ...BATCHED_DEFAULT })) {
      if (k === "seed" || k === "applyUntil") continue;
      assert.deepEqual(ran[k], v, `${k} differs from the benchmarked run`);
    }
    assert.ok("default" in results.setup.recipes || results.summary.some((s) => s.config === "default"), "the same run measured the one-sample default");
  });

  it("stamps the figures of that run", () => {
    assert.deepEqual(benchmarkStamp(recipe("default-batched")), {
      file: "gpu-runner/evaluation/experiments/2026-11-25-samples-per-step-full/RESULTS.md",
      config: "k4-t600",
      motion_fidelity: { all: [0.69, 0.65, 0.73], id: [0.71, 0.65, 0.76], ood: [0.67, 0.62, 0.72] },
      no_lora: 0.1,
      appearance_integrity: [0.96, 0.93, 0.99],
      leakage: 0.02,
    });
  });

  it("applies where the engine batches and the job leaves the temporal steps to the recipe", () => {
    const torchLike = { createTrainer: async () => ({}) as never };
    assert.equal(defaultTuneFor(torchLike).samplesPerStep, 4);
    assert.equal(defaultTuneFor(torchLike).temporalSteps, 600);
    assert.deepEqual(defaultTuneFor(torchLike, { temporalSteps: 2000 }), DEFAULT_TUNE, "a job's own step count means one-sample steps");
    assert.deepEqual(defaultTuneFor({}), DEFAULT_TUNE, "ONNX keeps 1 × 2000");
    assert.equal(defaultBenchmarkOf({ ...DEFAULT_TUNE, ...BATCHED_DEFAULT }), benchmarkStamp(recipe("default-batched")));
    assert.equal(defaultBenchmarkOf(DEFAULT_TUNE), benchmarkStamp(recipe("default")));
  });
});

describe("recipe files", () => {
  it("resolve to the option sets the ablations always had (the literals they were in code)", () => {
    const SPARSE = { appearanceAug: 0, applyUntil: 1, decoupleHeads: true, rope: "adaptive", sampling: "strided", temporalSteps: 800 } as const;
    const before = {
      default: {},
      "default-batched": { samplesPerStep: 4, temporalSteps: 600 },
      "decoupled-dense": { appearanceAug: 0, applyUntil: 1, decoupleHeads: true, rope: "adaptive" },
      "naive-two-stage": { appearanceAug: 0, applyUntil: 1, decoupleHeads: false, rope: "plain" },
      "naive-aug": { decoupleHeads: false, rope: "plain", appearanceAug: 0.5, applyUntil: 1 },
      "fym-sparse": SPARSE,
      "fym-sparse-no-adaptive-rope": { ...SPARSE, rope: "plain" },
      "fym-sparse-no-decoupling": { ...SPARSE, decoupleHeads: false },
      "fym-sparse8-centred": { ...SPARSE, sparseFrames: 8, rope: "centred", temporalSteps: 2000 },
    } as const;
    assert.deepEqual(Object.keys(BASELINES).sort(), Object.keys(before).sort());
    for (const [name, options] of Object.entries(before)) assert.deepEqual({ ...DEFAULT_TUNE, ...BASELINES[name] }, { ...DEFAULT_TUNE, ...options }, name);
  });

  it("are the recipes the API names (sdk/schema RecipeName), one file each", () => {
    assert.deepEqual([...RECIPES.keys()].sort(), [...RecipeName.options].sort());
  });

  it("each say why, and every one with evidence stamps from a file that has its config", () => {
    for (const r of RECIPES.values()) {
      assert.ok(r.why.length > 20, r.name);
      if (r.evidence) assert.ok(benchmarkStamp(r).motion_fidelity.all.length === 3, r.name);
    }
  });
});
