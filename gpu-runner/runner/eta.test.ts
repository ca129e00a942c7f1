import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Progress } from "../fym/tune.ts";
import { StepTimes, TuneEta, type TunePlan } from "./eta.ts";

const plan: TunePlan = { spatialSteps: 100, temporalSteps: 2_000, temporalFrames: 16 };
const at = (stage: Progress["stage"], step: number, steps: number): Progress => ({ stage, step, steps, loss: 0.1, etaMs: null });

/** Runs a tune's progress reports through an estimator on a fake clock: spatial steps of 70 ms, temporal of 370 ms, a slow first step each. */
function replay(eta: TuneEta, clock: { t: number }, upTo: { stage: "spatial" | "temporal"; step: number }) {
  const seen: (number | null)[] = [eta.update(at("heads", 0, 1))];
  for (const [stage, steps, ms] of [
    ["spatial", 100, 70],
    ["temporal", 2_000, 370],
  ] as const) {
    for (let s = 1; s <= steps; s++) {
      clock.t += s === 1 ? 5 * ms : ms;
      seen.push(eta.update(at(stage, s, steps)));
      if (stage === upTo.stage && s === upTo.step) return seen;
    }
  }
  return seen;
}

describe("a tune's whole-job ETA", () => {
  it("within a stage: the steps left at the rate measured since its first step (the warm-up left out)", () => {
    const clock = { t: 0 };
    const seen = replay(new TuneEta(plan, new StepTimes(), () => clock.t), clock, { stage: "temporal", step: 500 });
    assert.ok(Math.abs(seen.at(-1)! - (1_500 * 370) / 1000) < 1e-6, String(seen.at(-1)));
  });

  it("says nothing in the spatial stage of a runner's first tune: the temporal step time is not known yet", () => {
    const clock = { t: 0 };
    const seen = replay(new TuneEta(plan, new StepTimes(), () => clock.t), clock, { stage: "spatial", step: 50 });
    assert.deepEqual(new Set(seen), new Set([null]));
  });

  it("in later tunes covers the temporal stage from the start, with the rates measured before", () => {
    const times = new StepTimes();
    const clock = { t: 0 };
    replay(new TuneEta(plan, times, () => clock.t), clock, { stage: "temporal", step: 2_000 });
    const seen = replay(new TuneEta(plan, times, () => clock.t), clock, { stage: "spatial", step: 50 });
    const truth = (50 * 70 + 2_000 * 370) / 1000;
    assert.ok(Math.abs(seen.at(-1)! - truth) < 1e-6, `${seen.at(-1)} vs ${truth}`);
    const sparse = new TuneEta({ ...plan, temporalFrames: 4 }, times, () => clock.t);
    assert.equal(sparse.update(at("spatial", 1, 100)), null, "4-frame temporal steps were never timed");
  });
});
