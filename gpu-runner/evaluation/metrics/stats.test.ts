import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bootstrapMean, clusterBootstrap, mulberry32, pairedDifference, ratioOfMeans } from "./stats.ts";

function normal(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

interface Row {
  caseId: string;
  prompt: number;
  seed: number;
  value: number;
}

/** Benchmark-like rows: a per-case effect shared by all its prompts and seeds, plus per-row noise. */
function rows(rand: () => number, cases: number, caseEffects: number[], shift: number, noise: number): Row[] {
  const out: Row[] = [];
  for (let c = 0; c < cases; c++)
    for (let p = 0; p < 3; p++)
      for (let s = 0; s < 3; s++) out.push({ caseId: `c${c}`, prompt: p, seed: s, value: caseEffects[c]! + shift + noise * normal(rand) });
  return out;
}

describe("bootstrap statistics", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const v = Array.from({ length: 40 }, (_, i) => Math.sin(i) + i / 40);
    assert.deepEqual(bootstrapMean(v, { seed: 5 }), bootstrapMean(v, { seed: 5 }));
    assert.notDeepEqual(bootstrapMean(v, { seed: 5 }), bootstrapMean(v, { seed: 6 }));
    const r = bootstrapMean(v, { seed: 5 });
    assert.equal(r.n, 40);
    assert.ok(r.lo < r.mean && r.mean < r.hi);
  });

  it("covers the true mean at about the nominal 90% rate", () => {
    let covered = 0;
    const trials = 300;
    for (let t = 0; t < trials; t++) {
      const rand = mulberry32(1000 + t);
      // Skewed data (exponential, mean 1): the percentile interval must still hold near nominal.
      const v = Array.from({ length: 40 }, () => -Math.log(1 - rand()));
      const r = bootstrapMean(v, { iters: 400, seed: t });
      if (r.lo <= 1 && 1 <= r.hi) covered++;
    }
    assert.ok(covered / trials > 0.83 && covered / trials < 0.96, `coverage ${covered / trials}`);
  });

  it("resamples clusters: near-nominal coverage on clustered data where a row bootstrap is overconfident", () => {
    let clusterCovered = 0;
    let rowCovered = 0;
    const trials = 150;
    for (let t = 0; t < trials; t++) {
      const rand = mulberry32(5000 + t);
      const effects = Array.from({ length: 16 }, () => normal(rand));
      const data = rows(rand, 16, effects, 0, 0.3);
      const c = clusterBootstrap(
        data,
        (r) => r.caseId,
        (r) => r.value,
        { iters: 300, seed: t },
      );
      assert.equal(c.clusters, 16);
      assert.equal(c.n, 144);
      if (c.lo <= 0 && 0 <= c.hi) clusterCovered++;
      const b = bootstrapMean(
        data.map((r) => r.value),
        { iters: 300, seed: t },
      );
      if (b.lo <= 0 && 0 <= b.hi) rowCovered++;
    }
    assert.ok(clusterCovered / trials > 0.8, `cluster coverage ${clusterCovered / trials}`);
    assert.ok(rowCovered / trials < 0.6, `row coverage ${rowCovered / trials} (should be far below nominal)`);
  });

  it("pairs on (case, prompt, seed): a far narrower interval than unpaired on correlated data, around the true difference", () => {
    const rand = mulberry32(42);
    const effects = Array.from({ length: 16 }, () => normal(rand));
    // The same case effect and the same seed's luck in both configs: only the 0.2 shift differs.
    const base = rows(rand, 16, effects, 0, 0.5);
    const a = base.map((r) => ({ ...r, value: r.value + 0.2 + 0.05 * normal(rand) }));
    const key = (r: Row) => `${r.caseId}/${r.prompt}/${r.seed}`;
    const paired = pairedDifference(
      a,
      base,
      key,
      (r) => r.caseId,
      (r) => r.value,
      { seed: 1 },
    );
    assert.equal(paired.n, 144);
    assert.ok(Math.abs(paired.mean - 0.2) < 0.03);
    assert.ok(paired.lo < 0.2 && 0.2 < paired.hi);
    const ia = clusterBootstrap(
      a,
      (r) => r.caseId,
      (r) => r.value,
      { seed: 1 },
    );
    const ib = clusterBootstrap(
      base,
      (r) => r.caseId,
      (r) => r.value,
      { seed: 2 },
    );
    const unpairedWidth = Math.hypot(ia.hi - ia.lo, ib.hi - ib.lo);
    assert.ok(paired.hi - paired.lo < unpairedWidth / 10, `paired ${paired.hi - paired.lo} vs unpaired ${unpairedWidth}`);
    // Rows without a partner are dropped, not guessed.
    assert.equal(
      pairedDifference(
        a.slice(0, 10),
        base,
        key,
        (r) => r.caseId,
        (r) => r.value,
      ).n,
      10,
    );
  });

  it("gives a ratio of means with its interval (appearance integrity)", () => {
    const rand = mulberry32(7);
    const without = Array.from({ length: 120 }, (_, i) => ({ caseId: `c${i % 12}`, prompt: i, seed: 0, value: rand() < 0.9 ? 1 : 0 }));
    const withLora = without.map((r) => ({ ...r, value: r.value && rand() < 0.5 ? 1 : 0 }));
    const key = (r: Row) => `${r.caseId}/${r.prompt}`;
    const ratio = ratioOfMeans(
      withLora,
      without,
      key,
      (r) => r.caseId,
      (r) => r.value,
      { seed: 3 },
    );
    const expected = withLora.reduce((s, r) => s + r.value, 0) / without.reduce((s, r) => s + r.value, 0);
    assert.ok(Math.abs(ratio.mean - expected) < 1e-12);
    assert.ok(ratio.lo < ratio.mean && ratio.mean < ratio.hi && ratio.hi - ratio.lo < 0.4);
    assert.ok(Math.abs(ratio.mean - 0.5) < 0.15);
    assert.equal(
      ratioOfMeans(
        without,
        without,
        key,
        (r) => r.caseId,
        (r) => r.value,
      ).hi,
      1,
    );
  });
});
