import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../../core/rng.ts";
import { minCostAssignment } from "./assignment.ts";

/** Every injective map of the smaller side into the larger: the answer the Hungarian method must equal. */
function bruteForce(cost: number[][]): number {
  const rows = cost.length;
  const cols = cost[0]!.length;
  let best = Infinity;
  const walk = (i: number, used: Set<number>, sum: number, matched: number) => {
    if (i === rows) {
      if (matched === Math.min(rows, cols)) best = Math.min(best, sum);
      return;
    }
    if (rows - i > cols - matched) walk(i + 1, used, sum, matched); // this row may stay unmatched
    for (let j = 0; j < cols; j++) if (!used.has(j)) walk(i + 1, new Set([...used, j]), sum + cost[i]![j]!, matched + 1);
  };
  walk(0, new Set(), 0, 0);
  return best;
}

describe("minCostAssignment", () => {
  it("equals exhaustive search on random square and rectangular matrices", () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 200; trial++) {
      const rows = 1 + rng.int(5);
      const cols = 1 + rng.int(5);
      const cost = Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.next() * 10));
      const assign = minCostAssignment(cost);
      const cols_ = assign.filter((j) => j >= 0);
      assert.equal(cols_.length, Math.min(rows, cols), "matches min(rows, cols) pairs");
      assert.equal(new Set(cols_).size, cols_.length, "each column at most once");
      const total = assign.reduce((s, j, i) => s + (j >= 0 ? cost[i]![j]! : 0), 0);
      assert.ok(Math.abs(total - bruteForce(cost)) < 1e-9, `trial ${trial}: ${total} vs ${bruteForce(cost)}`);
    }
  });

  it("matches 7 tracks to 12 detections at once (the exhaustive tracker never finished)", { timeout: 2000 }, () => {
    const rng = new Rng(4);
    const cost = Array.from({ length: 7 }, () => Array.from({ length: 12 }, () => rng.next()));
    assert.equal(minCostAssignment(cost).filter((j) => j >= 0).length, 7);
  });
});
