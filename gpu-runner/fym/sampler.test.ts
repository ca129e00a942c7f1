import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { OnnxEngine } from "../engine/onnx-engine.ts";
import { OnnxModel } from "../engine/session.ts";
import { zeroLora } from "../lora/tensors.ts";
import { Rng } from "../core/rng.ts";
import { recommendedUntil } from "../runner/execute.ts";
import { generate } from "./sampler.ts";

describe("a LoRA applied on the first share of the sampling steps", () => {
  let engine: OnnxEngine;
  before(async () => {
    engine = new OnnxEngine(await OnnxModel.load({ threads: 2, verify: false }));
  });
  after(() => engine.model.release());

  it("until 0.5 of 4 steps is the LoRA on steps 1–2 and the base model after, unlike every step", async () => {
    const lora = zeroLora(engine.config);
    const rng = new Rng(3);
    lora.A.set(rng.normals(lora.A.length).map((x) => x * 0.2));
    lora.B.set(rng.normals(lora.B.length).map((x) => x * 0.2));
    const base = { prompt: "a red circle on a navy background", steps: 4, seed: 1 };
    const half = await generate(engine, { ...base, loras: [{ lora, weight: 1, until: 0.5 }] });
    const firstTwo = await generate(engine, { ...base, loras: [{ lora, weight: 1 }], loraSteps: 2 });
    const every = await generate(engine, { ...base, loras: [{ lora, weight: 1 }] });
    assert.deepEqual(half.data, firstTwo.data);
    const diff = half.data.reduce((s, x, i) => s + Math.abs(x - every.data[i]!), 0) / half.data.length;
    assert.ok(diff > 1e-3, `the late steps ran without the LoRA (mean |Δ| ${diff})`);
  });

  it("defaults to the share a LoRA's recipe recommends, else every step", () => {
    assert.equal(recommendedUntil({ applyUntil: 0.5 }), 0.5);
    assert.equal(recommendedUntil({ applyUntil: 7 }), 1);
    assert.equal(recommendedUntil({}), 1);
    assert.equal(recommendedUntil(undefined), 1);
  });
});
