// The torch engine against the ONNX engine on CPU: same operations, same numbers. Runs where a
// Python with PyTorch is installed (CI installs Debian's python3-torch); skipped, saying so, elsewhere.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { loadMotionBench } from "../evaluation/motionbench/motionbench-cases.ts";
import { generate, generateMany, packSlots } from "../fym/sampler.ts";
import { tune, tuneMany, type TuneJob } from "../fym/tune.ts";
import { decodeLora, encodeLora } from "../lora/file.ts";
import { Rng } from "../core/rng.ts";
import { selectFrames } from "../core/clip.ts";
import { seededNormals } from "../fym/noise.ts";
import { DEFAULT_OPTIM } from "../fym/trainer.ts";
import { AdamW } from "../lora/adamw.ts";
import type { TrainStepOutput } from "./engine.ts";
import { OnnxEngine } from "./onnx-engine.ts";
import { OnnxModel } from "./session.ts";
import { findTorchPython, TorchEngine, TorchEngineError, TORCH_OPS } from "./torch-engine.ts";
import { relNorm } from "../../test/helpers/rel-norm.ts";

const python = findTorchPython();
const skip = python
  ? false
  : "no Python with PyTorch here (tried MOTION_LORA_PYTHON, python3, /usr/bin/python3); apt-get install python3-torch to run the torch engine's tests";
if (!python) console.log(`# torch engine tests skipped: ${skip}`);

/** max |a − b| / max |b|: relative to the output's scale, so small entries do not dominate. */
function relErr(a: Float32Array, b: Float32Array) {
  assert.equal(a.length, b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

// Tunes here use 4 strided frames a step: what they check (parity, batching) holds for any sampling,
// and a dense step costs 4× more on the CPU the suite runs on.
describe("torch engine (the torch process) vs ONNX engine", { skip }, () => {
  let torch: TorchEngine;
  let onnx: OnnxEngine;
  const ref = loadMotionBench()[0]!;
  before(async () => {
    torch = await TorchEngine.start({ device: (process.env.MOTION_LORA_TORCH_DEVICE as "cuda" | undefined) ?? "cpu" });
    onnx = new OnnxEngine(await OnnxModel.load({ verify: false }));
  });
  after(async () => {
    await torch?.close();
    await onnx?.model.release();
  });

  it("speaks the ops the torch process declares (protocol.py OPS, the runner's TORCH_OPS): the ready frame checked them at start", () => {
    const r = spawnSync(python!.python, ["-c", "from fymnet.runtime.protocol import OPS; print(','.join(OPS))"], {
      cwd: fileURLToPath(new URL("../model/", import.meta.url)),
      encoding: "utf8",
    });
    assert.equal(r.stdout.trim(), TORCH_OPS.join(","), r.stderr);
  });

  it("agrees on every operation within 1e-4 (relative), LoRA slots included", async () => {
    const cfg = onnx.config;
    const rng = new Rng(5);
    const a = await torch.encodeText(ref.caption);
    const b = await onnx.encodeText(ref.caption);
    assert.ok(relErr(a.text, b.text) < 1e-4, "text");
    const n = cfg.frames * 3 * cfg.size * cfg.size;
    const x = rng.normals(2 * n);
    const text = new Float32Array(2 * b.text.length);
    text.set(b.text);
    text.set(b.text, b.text.length);
    const mask = new Float32Array(2 * b.mask.length);
    mask.set(b.mask);
    mask.set(b.mask, b.mask.length);
    const pos = Float32Array.from({ length: cfg.frames }, (_, i) => i);
    const lora = {
      rank: 8,
      alpha: 8,
      A: rng.normals(cfg.depth * 4 * 8 * cfg.dim).map((v) => v * 0.05),
      B: rng.normals(cfg.depth * 4 * cfg.dim * 8).map((v) => v * 0.05),
    };
    const slots = packSlots(onnx, [{ lora, weight: 1 }]);
    const t = Float32Array.of(0.7, 0.7);
    assert.ok(relErr(await torch.denoise(x, t, text, mask, pos, slots), await onnx.denoise(x, t, text, mask, pos, slots)) < 1e-4, "denoise");
    const x1 = x.subarray(0, n);
    assert.ok(relErr(await torch.probe(x1, 0.5, b.text, b.mask, pos), await onnx.probe(x1, 0.5, b.text, b.mask, pos)) < 1e-4, "probe");
    const k = onnx.sparseFrames;
    const step = {
      x0: ref.clip.data.subarray(0, k * 3 * cfg.size * cfg.size),
      noise: rng.normals(k * 3 * cfg.size * cfg.size),
      t: 0.6,
      text: b.text,
      textMask: b.mask,
      framePos: Float32Array.from([0, 5, 10, 15]),
      frozen: { A: lora.A, B: lora.B, scale: 1 },
      lora: { A: lora.B.length === lora.A.length ? lora.B.map((v) => v * 0.5) : lora.A, B: lora.A.map((v) => v * 0.5), scale: 1 },
      lossWeights: [1, 0.5] as [number, number],
    };
    const tt = await torch.trainStep("sparse", step);
    const to = await onnx.trainStep("sparse", step);
    assert.ok(Math.abs(tt.loss - to.loss) / to.loss < 1e-4, `loss ${tt.loss} vs ${to.loss}`);
    assert.ok(relErr(tt.gradA, to.gradA) < 1e-4 && relErr(tt.gradB, to.gradB) < 1e-4, "gradients");
    // The torch process holds big unchanged inputs between calls; an array changed in place is sent again.
    for (let i = 0; i < step.frozen.B.length; i += 7) step.frozen.B[i]! += 0.05;
    const t2 = await torch.trainStep("sparse", step);
    const o2 = await onnx.trainStep("sparse", step);
    assert.notEqual(o2.loss, to.loss);
    assert.ok(Math.abs(t2.loss - o2.loss) / o2.loss < 1e-4, `after an in-place change: ${t2.loss} vs ${o2.loss}`);
  });

  it("tunes a LoRA the ONNX engine loads and generates with (same file format and metadata)", async () => {
    const r = await tune(torch, ref.clip, ref.caption, { spatialSteps: 2, temporalSteps: 3, sampling: "strided", seed: 4 });
    const o = await tune(onnx, ref.clip, ref.caption, { spatialSteps: 2, temporalSteps: 3, sampling: "strided", seed: 4 });
    for (const [i, l] of r.temporal.losses.entries()) {
      assert.ok(Math.abs(l - o.temporal.losses[i]!) / o.temporal.losses[i]! < 1e-3, `step ${i}: ${l} vs ${o.temporal.losses[i]}`);
    }
    // The torch process's AdamW (gpu-runner/model/fymnet/training/trainer_group.py) against the TypeScript one, same noise by seed.
    assert.ok(relNorm(r.temporal.lora.A, o.temporal.lora.A) < 1e-3 && relNorm(r.temporal.lora.B, o.temporal.lora.B) < 1e-3, "LoRA weights");
    const file = encodeLora(torch.config, r.temporal.lora, torch.base, { stage: "temporal", heads: r.heads.temporal, tuning: { engine: torch.name } });
    const { lora, metadata } = decodeLora(onnx.config, file, onnx.base);
    assert.equal(metadata.tuning_config?.engine, torch.name);
    const clip = await generate(onnx, { prompt: ref.newPrompts[0]!, steps: 2, loras: [{ lora, weight: 1 }] });
    assert.equal(clip.frames, 16);
  });

  it("trains N LoRAs in one batched step, each equal to its own run alone (several samples a step included)", async () => {
    const bench = loadMotionBench();
    const jobs: TuneJob[] = [
      { clip: bench[0]!.clip, caption: bench[0]!.caption, options: { spatialSteps: 2, temporalSteps: 4, sampling: "strided", seed: 1 } },
      {
        clip: bench[13]!.clip,
        caption: bench[13]!.caption,
        options: { spatialSteps: 2, temporalSteps: 4, sampling: "strided", seed: 2, lr: 1e-2, samplesPerStep: 3 },
      },
      {
        clip: bench[25]!.clip,
        caption: bench[25]!.caption,
        options: { spatialSteps: 2, temporalSteps: 4, sampling: "strided", seed: 3, decoupleHeads: false, samplesPerStep: 2 },
      },
    ];
    const together = await Promise.all(tuneMany(torch, jobs));
    for (const [i, job] of jobs.entries()) {
      const alone = await tune(torch, job.clip, job.caption, job.options);
      assert.equal(together[i]!.temporal.batch, 3);
      assert.ok(relNorm(together[i]!.spatial.lora.A, alone.spatial.lora.A) < 1e-3, `job ${i} spatial A`);
      assert.ok(relNorm(together[i]!.temporal.lora.B, alone.temporal.lora.B) < 1e-3, `job ${i} temporal B`);
      assert.ok(Math.abs(together[i]!.temporal.losses[3]! - alone.temporal.losses[3]!) < 1e-4 * alone.temporal.losses[3]!, `job ${i} loss`);
    }
    assert.ok(relNorm(together[0]!.temporal.lora.B, together[1]!.temporal.lora.B) > 0.1, "different jobs give different LoRAs");
    assert.equal(together[2]!.options.samplesPerStep, 2, "the option travels with the result (and so into the LoRA's tuning config)");
    const one = await tune(torch, jobs[2]!.clip, jobs[2]!.caption, { ...jobs[2]!.options, samplesPerStep: 1 });
    assert.ok(relNorm(together[2]!.temporal.lora.B, one.temporal.lora.B) > 0.01, "two samples a step train another LoRA than one");
  });

  it("trains a LoRA on k samples a step: the step's loss and update are those of the mean of its k single-sample gradients", async () => {
    const cfg = torch.config;
    const rng = new Rng(11);
    const { text, mask } = await torch.encodeText(ref.caption);
    const k = 2;
    const per = cfg.depth * 4 * cfg.lora_rank * cfg.dim;
    const A0 = rng.normals(per).map((v) => v * 0.05);
    const B0 = rng.normals(per).map((v) => v * 0.05);
    const frozen = { A: new Float32Array(per), B: new Float32Array(per), scale: 0 };
    const ones = { A: new Uint8Array(per).fill(1), B: new Uint8Array(per).fill(1) };
    const job = {
      clip: ref.clip,
      text,
      textMask: mask,
      frozen,
      init: { A: A0, B: B0 },
      masks: ones,
      scale: 1,
      lr: 1e-3,
      warmupSteps: 0,
      lossWeights: [1, 0] as [number, number],
    };
    const trainer = await torch.createTrainer("sparse", 4, [{ ...job, samples: k }], DEFAULT_OPTIM);
    // The same steps by hand: k single-sample gradients (trainStep, same seeded noise), their mean, the TypeScript AdamW.
    const A = Float32Array.from(A0);
    const B = Float32Array.from(B0);
    const opt = new AdamW([A, B], { lr: 1e-3, warmupSteps: 0, ...DEFAULT_OPTIM }, [ones.A, ones.B]);
    const frames = [0, 5, 10, 15];
    const framePos = Float32Array.from(frames);
    try {
      for (let s = 0; s < 3; s++) {
        const steps = Array.from({ length: k }, (_, j) => ({ frames, framePos, seed: 100 * s + j, t: 0.2 + 0.3 * j }));
        const [got] = await trainer.step(steps);
        const x0 = selectFrames(ref.clip, frames).data;
        const single: TrainStepOutput[] = [];
        for (const st of steps)
          single.push(
            await torch.trainStep("sparse", {
              x0,
              noise: seededNormals(st.seed, x0.length),
              t: st.t,
              text,
              textMask: mask,
              framePos,
              frozen,
              lora: { A, B, scale: 1 },
              lossWeights: [1, 0],
            }),
          );
        const mean = (f: (r: (typeof single)[number]) => Float32Array) => f(single[0]!).map((_, i) => single.reduce((acc, r) => acc + f(r)[i]!, 0) / k);
        const loss = single.reduce((acc, r) => acc + r.loss, 0) / k;
        assert.ok(Math.abs(got!.loss - loss) < 1e-4 * loss, `step ${s}: loss ${got!.loss} vs mean ${loss}`);
        opt.update([mean((r) => r.gradA), mean((r) => r.gradB)]);
      }
      const [w] = await trainer.weights();
      assert.ok(relNorm(w!.A, A) < 1e-3 && relNorm(w!.B, B) < 1e-3, "weights after 3 steps");
      await assert.rejects(trainer.step([{ frames, framePos, seed: 1, t: 0.5 }]), /takes 2 samples/);
    } finally {
      await trainer.close();
    }
  });

  it("generates several clips in one batched denoiser call, each equal to its own generation", async () => {
    const lora = (await tune(torch, ref.clip, ref.caption, { spatialSteps: 1, temporalSteps: 2, sampling: "strided", seed: 9 })).temporal.lora;
    const list = [
      { prompt: ref.newPrompts[0]!, steps: 3, seed: 1 },
      { prompt: ref.newPrompts[1]!, steps: 3, seed: 2, loras: [{ lora, weight: 1 }] },
      { prompt: ref.caption, steps: 3, seed: 3, guidance: 2, loras: [{ lora, weight: 0.5 }] },
    ];
    const many = await Promise.all(generateMany(torch, list));
    // A batch of 3 and a batch of 1 take different BLAS kernels (OpenBLAS blocks by shape): the
    // LoRA clip differs by 1.9e-4 of its scale after 3 steps, the others by 2.4e-5. A clip given
    // another's LoRA or weight differs by 0.19 or more (checked below), so 1e-3 still tells them apart.
    for (const [i, o] of list.entries()) assert.ok(relErr(many[i]!.data, (await generate(torch, o)).data) < 1e-3, `clip ${i}`);
    const halfWeight = (await generate(torch, { ...list[1]!, loras: [{ lora, weight: 0.5 }] })).data;
    assert.ok(relErr(halfWeight, many[1]!.data) > 0.1, "the LoRA's weight shows in the clip");
  });

  it("fails a call with the torch process's stderr when it dies, and restarts it for the next", async () => {
    const pid = torch.pid!;
    const cfg = torch.config;
    const { text, mask } = await onnx.encodeText(ref.caption);
    const pending = generate(torch, { prompt: ref.caption, steps: 50 });
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, "SIGKILL");
    await assert.rejects(pending, (e: unknown) => e instanceof TorchEngineError && e.code === "engine_crashed");
    const again = await torch.probe(
      new Float32Array(cfg.frames * 3 * cfg.size * cfg.size),
      0.5,
      text,
      mask,
      Float32Array.from({ length: cfg.frames }, (_, i) => i),
    );
    assert.equal(again.length, cfg.depth * cfg.heads * 2);
    assert.notEqual(torch.pid, pid, "a new torch process");
    const raw = torch as unknown as { call(op: string, t: object): Promise<unknown> };
    await assert.rejects(
      raw.call("no-such-op", {}),
      (e: unknown) => e instanceof TorchEngineError && e.code === "engine_error" && /unknown op/.test(e.message),
    );
    assert.ok((await torch.encodeText("a red circle")).text.length > 0, "a bad request does not kill the torch process");
  });
});
