import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareRuns } from "./compare-runs.ts";

const row = (config: string, c: string, seed: number, fidelity: number, ood = false) => ({
  config,
  case: c,
  prompt: 0,
  seed,
  ood,
  fidelity,
  correlation: 0,
});

describe("compareRuns", () => {
  it("pairs rows by case, prompt and seed, and reports after − before per split", () => {
    const before = [row("a", "c1", 0, 0.2), row("a", "c1", 1, 0.4), row("a", "c2", 0, 0.1, true), row("a", "c3", 0, 0.9)];
    // c3 has no partner after: dropped, not counted as a change.
    const after = [row("a", "c1", 1, 0.5), row("a", "c1", 0, 0.3), row("a", "c2", 0, 0.4, true)];
    const lines = compareRuns(before, after, ["a"]);
    assert.equal(lines[2], "| a | all | 3 | +0.167 (+0.100…+0.300) | +0.000 (+0.000…+0.000) |");
    assert.match(lines[3]!, /^\| a \| ID \| 2 \| \+0\.100 /);
    assert.match(lines[4]!, /^\| a \| OOD \| 1 \| \+0\.300 /);
  });
});
