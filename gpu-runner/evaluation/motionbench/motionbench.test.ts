// MotionBench's --quick mode, as CI runs it: the whole pipeline (batched tuning, generation,
// scoring threads, report) on one OOD case per category with tiny budgets.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";

it("runs MotionBench --quick end to end and writes its report, JSON, chart and previews", () => {
  const out = mkdtempSync(join(tmpdir(), "motionbench-"));
  try {
    const r = spawnSync(process.execPath, ["--import", "tsx", "gpu-runner/evaluation/motionbench/motionbench.ts", "--quick", "--out", out], {
      encoding: "utf8",
      timeout: 240_000,
    });
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const md = readFileSync(join(out, "RESULTS-motionbench-onnx-cpu.md"), "utf8");
    assert.match(md, /\| default \| OOD \| 4 \| -?\d\.\d\d \(/, "an OOD row for the default recipe with its interval");
    const json = JSON.parse(readFileSync(join(out, "RESULTS-motionbench-onnx-cpu.json"), "utf8")) as { rows: { config: string; fidelity: number }[] };
    assert.equal(json.rows.filter((x) => x.config === "floor").length, 4);
    assert.ok(json.rows.every((x) => Number.isFinite(x.fidelity)));
    for (const f of ["tuning.png", "index.html", "gifs/camera-motion-02.gif"].map((x) => `motionbench-onnx-cpu/${x}`)) assert.ok(existsSync(join(out, f)), f);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
