import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ClockReading, StepTimes, TuneClock, type TunePlan } from "./eta.ts";

const plan: TunePlan = { spatialSteps: 100, temporalSteps: 2_000, temporalFrames: 16, sampleSteps: 20, frames: 16 };
type Upto = { stage: "spatial" | "temporal" | "sample"; step: number };

/**
 * Runs a tune's progress reports through a clock on a fake time: heads 300 ms, spatial steps of 70 ms,
 * temporal of 370 ms, sampling steps of 150 ms, a slow first step each (`slow` multiplies the
 * temporal steps after the 1,000th: a machine that got busy).
 */
function replay(clock: TuneClock, time: { t: number }, upTo: Upto | null = null, slow = 1) {
  const seen: ClockReading[] = [clock.update("heads", 0, 1)];
  time.t += 300;
  for (const [stage, steps, ms] of [
    ["spatial", 100, 70],
    ["temporal", 2_000, 370],
    ["sample", 20, 150],
  ] as const) {
    if (stage === "sample") seen.push(clock.update("sample", 0, steps));
    for (let s = 1; s <= steps; s++) {
      time.t += (s === 1 ? 5 * ms : ms) * (stage === "temporal" && s > 1_000 ? slow : 1);
      seen.push(clock.update(stage, s, steps));
      if (stage === upTo?.stage && s === upTo.step) return seen;
    }
  }
  return seen;
}

const clockOn = (times: StepTimes, time: { t: number }) => new TuneClock(plan, times, () => time.t);

describe("a tune's whole-job ETA", () => {
  it("within a stage: the steps left at the rate measured since its first step (the warm-up left out), plus the sample", () => {
    const time = { t: 0 };
    const seen = replay(clockOn(new StepTimes(), time), time, { stage: "temporal", step: 500 });
    const sample = (20 * 370 * 0.5) / 1000; // not timed yet: half a temporal step each
    assert.ok(Math.abs(seen.at(-1)!.etaSeconds! - ((1_500 * 370) / 1000 + sample)) < 1e-6, String(seen.at(-1)!.etaSeconds));
  });

  it("says nothing in the spatial stage of a runner's first tune: the temporal step time is not known yet", () => {
    const time = { t: 0 };
    const seen = replay(clockOn(new StepTimes(), time), time, { stage: "spatial", step: 50 });
    assert.deepEqual(new Set(seen.map((r) => r.etaSeconds)), new Set([null]));
  });

  it("in later tunes covers the temporal stage and the sample from the start, with the rates measured before", () => {
    const times = new StepTimes();
    const time = { t: 0 };
    replay(clockOn(times, time), time);
    const seen = replay(clockOn(times, time), time, { stage: "spatial", step: 50 });
    const truth = (50 * 70 + 2_000 * 370 + 20 * 150) / 1000;
    assert.ok(Math.abs(seen.at(-1)!.etaSeconds! - truth) < 1e-6, `${seen.at(-1)!.etaSeconds} vs ${truth}`);
    const sparse = new TuneClock({ ...plan, temporalFrames: 4 }, times, () => time.t);
    sparse.update("spatial", 1, 100);
    assert.equal(sparse.update("spatial", 2, 100).etaSeconds, null, "4-frame temporal steps were never timed");
  });
});

describe("a tune's progress bar", () => {
  it("is the share of the job's time spent: 1% after its spatial stage, not the 22% of fixed stage shares", () => {
    const times = new StepTimes();
    const time = { t: 0 };
    replay(clockOn(times, time), time);
    const t0 = time.t;
    const seen = replay(clockOn(times, time), time, { stage: "spatial", step: 100 });
    const spent = time.t - t0;
    const whole = spent + 2_000 * 370 + 20 * 150;
    assert.ok(Math.abs(seen.at(-1)!.progress - spent / whole) < 0.002, `${seen.at(-1)!.progress} vs ${spent / whole}`);
    const half = replay(clockOn(times, time), time, { stage: "temporal", step: 1_000 });
    assert.ok(Math.abs(half.at(-1)!.progress - 0.5) < 0.01, `half the temporal steps are half the time: ${half.at(-1)!.progress}`);
  });

  it("never goes back, even when the steps slow down 3×, and stays below 1 until the job is done", () => {
    const time = { t: 0 };
    const seen = replay(clockOn(new StepTimes(), time), time, null, 3);
    const p = seen.map((r) => r.progress);
    for (let i = 1; i < p.length; i++) assert.ok(p[i]! >= p[i - 1]!, `step ${i}: ${p[i - 1]} → ${p[i]}`);
    assert.ok(p.at(-1)! <= 0.99 && p.at(-1)! > 0.95, String(p.at(-1)));
    assert.ok(
      p.every((x) => Math.round(x * 1000) === x * 1000),
      "a tenth of a percent, not raw floats",
    );
  });
});
