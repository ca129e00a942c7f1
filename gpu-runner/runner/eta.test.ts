import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ModelConfig } from "../engine/config.ts";
import { trainStepMacs } from "../engine/flops.ts";
import { DEFAULT_TUNE, type Progress } from "../fym/tune.ts";
import { tuneEtaSeconds, tunePlan } from "./eta.ts";

const cfg = {
  frames: 16,
  size: 32,
  patch: 4,
  dim: 192,
  depth: 6,
  heads: 8,
  mlp_ratio: 4,
  text_dim: 128,
  text_layers: 2,
  text_heads: 4,
  vocab: 48,
  max_tokens: 24,
  lora_rank: 8,
  lora_slots: 2,
} as ModelConfig;
const at = (stage: Progress["stage"], step: number, steps: number, etaMs: number | null): Progress => ({ stage, step, steps, loss: 0.1, etaMs });

describe("a tune's whole-job ETA", () => {
  const dense = tunePlan(DEFAULT_TUNE, cfg, 4);

  it("in the spatial stage adds the temporal stage, scaled from the measured rate by the work per step", () => {
    // 10 of 100 spatial steps done, 9 s left at 100 ms a step.
    const eta = tuneEtaSeconds(at("spatial", 10, 100, 9_000), dense, cfg)!;
    const perTemporalStep = 0.1 * (trainStepMacs(cfg, 16) / trainStepMacs(cfg, 1));
    assert.ok(Math.abs(eta - (9 + dense.temporalSteps * perTemporalStep)) < 1e-6, String(eta));
    assert.ok(eta > 9 * 20, "the temporal stage dominates: a stage's own ETA would promise far too little");
  });

  it("in the temporal stage is what is left of it; sparse sampling plans less work", () => {
    assert.equal(tuneEtaSeconds(at("temporal", 1_500, 2_000, 50_000), dense, cfg), 50);
    const sparse = tunePlan({ ...DEFAULT_TUNE, sampling: "strided" }, cfg, 4);
    assert.equal(sparse.temporalFrames, 4);
    assert.ok(tuneEtaSeconds(at("spatial", 10, 100, 9_000), sparse, cfg)! < tuneEtaSeconds(at("spatial", 10, 100, 9_000), dense, cfg)!);
  });

  it("says nothing before a step was timed", () => {
    assert.equal(tuneEtaSeconds(at("heads", 0, 1, null), dense, cfg), null);
    assert.equal(tuneEtaSeconds(at("spatial", 100, 100, 0), dense, cfg), null, "the last spatial step leaves no rate to carry");
  });
});
