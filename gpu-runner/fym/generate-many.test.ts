// generateMany's per-generation fate on the torch engine's batched denoiser (CPU here; CI installs
// Debian's python3-torch): a canceled generation leaves the batch at its next step, a bad one fails
// before the first, and the others give the clips they give alone.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { findTorchPython, TorchEngine } from "../engine/torch-engine.ts";
import { zeroLora } from "../lora/tensors.ts";
import { Rng } from "../core/rng.ts";
import { relNorm } from "../../test/helpers/rel-norm.ts";
import { generate, generateMany, type GenerateOptions } from "./sampler.ts";

const skip = findTorchPython() ? false : "no Python with PyTorch here; apt-get install python3-torch to run the batched sampler's tests";

describe("generations batched in lockstep (torch engine)", { skip }, () => {
  let torch: TorchEngine;
  before(async () => {
    torch = await TorchEngine.start({ device: "cpu" });
  });
  after(() => torch?.close());

  const lora = () => {
    const l = zeroLora(torch.config);
    const rng = new Rng(3);
    l.A.set(rng.normals(l.A.length).map((x) => x * 0.2));
    l.B.set(rng.normals(l.B.length).map((x) => x * 0.2));
    return l;
  };

  it("lets a canceled generation leave at its next step and fails a bad one before the first, while the others go on, each equal to its generation alone", async () => {
    const stop = new AbortController();
    const seen: number[][] = [[], [], [], []];
    const list: GenerateOptions[] = [
      { prompt: "a red circle on a navy background", steps: 2, seed: 1 },
      // Canceled during its first step: it must not take a second.
      { prompt: "a blue square on a black background", steps: 2, seed: 2, signal: stop.signal, onStep: (s) => s === 1 && stop.abort(new Error("canceled")) },
      // Another step count and a LoRA: each generation keeps its own timesteps and slots.
      { prompt: "a white diamond on a striped black background", steps: 1, seed: 3, loras: [{ lora: lora(), weight: 1 }] },
      // Bad: this model has 2 LoRA slots.
      { prompt: "a red circle on a navy background", steps: 2, seed: 1, loras: [lora(), lora(), lora()].map((l) => ({ lora: l, weight: 1 })) },
    ];
    const watched = list.map((o, k) => ({
      ...o,
      onStep: (s: number, n: number) => {
        seen[k]!.push(s);
        o.onStep?.(s, n);
      },
    }));
    const [a, canceled, c, bad] = generateMany(torch, watched);
    await assert.rejects(bad!, /at most 2 LoRAs apply at once; got 3/);
    assert.deepEqual(seen[3], [], "the bad generation never started");
    await assert.rejects(canceled!, /canceled/);
    assert.deepEqual(seen[1], [0, 1], "the canceled generation left at its next step");
    const [clipA, clipC] = await Promise.all([a!, c!]);
    assert.deepEqual(seen[0], [0, 1, 2]);
    assert.deepEqual(seen[2], [0, 1]);
    // A batch of 3 or 2 takes other BLAS kernels than a batch of 1 (measured here: 2.5e-6 and 2.8e-5 of the
    // clip's norm); another clip is 1.2 away, so 1e-3 tells them apart.
    const aloneA = await generate(torch, list[0]!);
    const aloneC = await generate(torch, list[2]!);
    assert.ok(relNorm(clipA.data, aloneA.data) < 1e-3, `clip 0: ${relNorm(clipA.data, aloneA.data)}`);
    assert.ok(relNorm(clipC.data, aloneC.data) < 1e-3, `clip 2: ${relNorm(clipC.data, aloneC.data)}`);
    assert.ok(relNorm(clipA.data, aloneC.data) > 0.1, "the clips differ from each other");
  });
});
