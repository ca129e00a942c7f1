// Appearance augmentation (augment.ts), its use in tune (appearanceAug, temporalProjections) and the
// sampler's loraSteps: unit checks on painted clips, then tiny tunes on the ONNX engine (CPU).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadMotionBench } from "../evaluation/motionbench/motionbench-cases.ts";
import { OnnxEngine } from "../engine/onnx-engine.ts";
import { OnnxModel } from "../engine/session.ts";
import { findTorchPython, TorchEngine } from "../engine/torch-engine.ts";
import { BACKGROUND_COLOURS, OBJECT_COLOURS, paintClip, RGB, stillPath, type PaintSpec } from "../evaluation/metrics/paint.ts";
import { Rng } from "../core/rng.ts";
import { appearanceVariants, BACKGROUND_RGB, captionColours, fitPalette, OBJECT_RGB } from "./augment.ts";
import { generate } from "./sampler.ts";
import { DEFAULT_TUNE, recipeName } from "./recipes.ts";
import { tune, tuneMany } from "./tune.ts";
import { relNorm } from "../../test/helpers/rel-norm.ts";

const line = (x0: number, y0: number, vx: number, vy: number): [number, number][] => Array.from({ length: 16 }, (_, f) => [x0 + vx * f, y0 + vy * f]);
const rms = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0) / a.length) / 2; // in [0, 1] units

describe("appearance augmentation", () => {
  it("holds the world's palette", () => {
    for (const c of OBJECT_COLOURS) assert.deepEqual(OBJECT_RGB[c], RGB[c], c);
    for (const c of BACKGROUND_COLOURS) assert.deepEqual(BACKGROUND_RGB[c], RGB[c], c);
  });

  it("reads the caption's object and background colours", () => {
    assert.deepEqual(captionColours("a small white cross and a red circle moving on a striped navy background"), {
      objects: ["white", "red"],
      background: "navy",
    });
    assert.deepEqual(captionColours("a cyan person on a noisy teal background"), { objects: ["cyan"], background: "teal" });
  });

  it("recolours a painted clip to what the world paints in the new colours, caption to match (white on black too)", () => {
    const cases: [PaintSpec, string][] = [
      [
        {
          background: "navy",
          style: "striped",
          sprites: [
            { colour: "red", shape: "circle", size: "big", path: line(8, 8, 1, 0.5) },
            { colour: "white", shape: "square", path: line(24, 26, -0.8, 0) },
          ],
        },
        "a big red circle and a white square moving on a striped navy background",
      ],
      [
        { background: "black", style: "noisy", sprites: [{ colour: "white", shape: "star", path: line(6, 16, 1.2, 0) }] },
        "a white star on a noisy black background",
      ],
      [
        {
          background: "gray",
          style: "checkered",
          sprites: [{ colour: "orange", shape: "cross", path: stillPath(16, 16) }],
          camera: Array.from({ length: 16 }, (_, f) => [f * 0.6, 0, 1] as [number, number, number]),
        },
        "a orange cross on a checkered gray background with the camera panning",
      ],
    ];
    for (const [spec, caption] of cases) {
      const clip = paintClip(spec);
      assert.equal(fitPalette(clip, caption).refused, null, caption);
      const { variants, refused } = appearanceVariants(clip, caption, 4, new Rng(3));
      assert.equal(refused, null);
      assert.equal(variants.length, 4);
      for (const v of variants) {
        const now = captionColours(v.caption);
        const before = captionColours(caption);
        assert.notEqual(now.background, before.background, v.caption);
        for (const [k, c] of now.objects.entries()) assert.notEqual(c, before.objects[k], v.caption);
        assert.equal(new Set(now.objects).size, now.objects.length, "objects keep distinct colours");
        const truth = paintClip({
          ...spec,
          background: now.background as PaintSpec["background"],
          sprites: spec.sprites.map((s, k) => ({ ...s, colour: now.objects[k] as (typeof OBJECT_COLOURS)[number] })),
        });
        // The variant is the world's own painting but for a few edge pixels: a faint white halo on black
        // reads as slightly brighter background (~1% of values off by up to 0.1), and where objects
        // overlap (not here) their shared edge takes one colour.
        const err = rms(v.clip.data, truth.data);
        const off = v.clip.data.filter((x, i) => Math.abs(x - truth.data[i]!) / 2 > 0.05).length / v.clip.data.length;
        assert.ok(err < 0.03 && off < 0.02, `${caption} → ${v.caption}: RMS ${err.toFixed(4)}, ${(off * 100).toFixed(2)}% of values off by > 0.05`);
      }
    }
  });

  it("refuses, and so leaves unaugmented, a clip whose caption colours are not in its pixels", () => {
    const clip = paintClip({ background: "teal", style: "plain", sprites: [{ colour: "blue", shape: "circle", path: stillPath(12, 12) }] });
    assert.match(appearanceVariants(clip, "a red circle on a teal background", 4, new Rng(1)).refused ?? "", /red not found/);
    assert.match(appearanceVariants(clip, "a blue circle on a maroon background", 4, new Rng(1)).refused ?? "", /maroon background explains only/);
    assert.match(appearanceVariants(clip, "", 4, new Rng(1)).refused ?? "", /names no palette colour/);
  });

  it("augments every MotionBench reference from its caption and pixels", () => {
    for (const b of loadMotionBench()) assert.equal(fitPalette(b.clip, b.caption).refused, null, `${b.name}: ${b.caption}`);
  });

  it("names a recipe with an optional option off the default's custom, and with it at the default's value, default", () => {
    assert.equal(recipeName({ ...DEFAULT_TUNE, appearanceAug: 0 }), "custom");
    assert.equal(recipeName({ ...DEFAULT_TUNE, temporalProjections: "qk" }), "custom");
    assert.equal(recipeName({ ...DEFAULT_TUNE, temporalProjections: "qkvo", augVariants: 8 }), "default");
  });
});

describe("appearance augmentation and projection masks in tune, loraSteps in generate (ONNX engine, CPU)", () => {
  let engine: OnnxEngine;
  const ref = loadMotionBench().find((b) => b.name === "multiple-objects-02")!;
  before(async () => {
    engine = new OnnxEngine(await OnnxModel.load({ threads: 2, verify: false }));
  });
  after(() => engine.model.release());
  const tiny = { spatialSteps: 2, temporalSteps: 4, sampling: "strided" as const, seed: 1 };

  it("tunes on a bank of recoloured variants; a clip whose caption does not match trains unaugmented", async () => {
    const r = await tune(engine, ref.clip, ref.caption, { ...tiny, appearanceAug: 1, augVariants: 3 });
    assert.equal(r.augment?.variants, 3);
    assert.equal(r.augment?.refused, null);
    assert.equal(r.augment?.captions.length, 3);
    assert.ok(r.temporal.losses.every(Number.isFinite));
    const bad = await tune(engine, ref.clip, "a green star on a teal background", { ...tiny, appearanceAug: 1, augVariants: 3 });
    assert.equal(bad.augment?.variants, 0);
    assert.ok(bad.augment?.refused);
    assert.equal((await tune(engine, ref.clip, ref.caption, { ...tiny, appearanceAug: 0 })).augment, undefined, "off at 0");
    assert.equal((await tune(engine, ref.clip, ref.caption, tiny)).augment?.variants, 8, "on in the default recipe");
    await assert.rejects(tune(engine, ref.clip, ref.caption, { ...tiny, appearanceAug: 2 }), /appearanceAug is a share/);
  });

  it("keeps a temporal LoRA on q and k only when asked", async () => {
    const r = await tune(engine, ref.clip, ref.caption, { ...tiny, temporalProjections: "qk" });
    const cfg = engine.config;
    const per = cfg.lora_rank * cfg.dim;
    let qk = 0;
    for (let blk = 0; blk < cfg.depth; blk++)
      for (let p = 0; p < 4; p++) {
        const a = r.temporal.lora.A.subarray((blk * 4 + p) * per, (blk * 4 + p + 1) * per);
        const b = r.temporal.lora.B.subarray((blk * 4 + p) * per, (blk * 4 + p + 1) * per);
        if (p >= 2) assert.ok(a.every((x) => x === 0) && b.every((x) => x === 0), `v/o of block ${blk} stay zero`);
        else qk += b.reduce((s, x) => s + Math.abs(x), 0);
      }
    assert.ok(qk > 0, "q and k train");
    await assert.rejects(tune(engine, ref.clip, ref.caption, { ...tiny, temporalProjections: "qx" }), /subset of "qkvo"/);
  });

  it("applies the LoRAs on the first loraSteps steps only", async () => {
    const r = await tune(engine, ref.clip, ref.caption, { ...tiny, lr: 1e-2 });
    const o = { prompt: ref.newPrompts[0]!, steps: 3, seed: 4 };
    const loras = [{ lora: r.temporal.lora, weight: 1 }];
    const base = await generate(engine, o);
    const full = await generate(engine, { ...o, loras });
    assert.deepEqual((await generate(engine, { ...o, loras, loraSteps: 0 })).data, base.data);
    assert.deepEqual((await generate(engine, { ...o, loras, loraSteps: 3 })).data, full.data);
    const early = await generate(engine, { ...o, loras, loraSteps: 1 });
    assert.notDeepEqual(early.data, base.data);
    assert.notDeepEqual(early.data, full.data);
  });
});

describe("appearance banks on the torch engine's batched trainer", { skip: findTorchPython() ? false : "no Python with PyTorch here" }, () => {
  it("equals the loop trainer on the ONNX engine, with an unaugmented job in the same batch", async () => {
    const bench = loadMotionBench();
    const torch = await TorchEngine.start({ device: (process.env.MOTION_LORA_TORCH_DEVICE as "cuda" | undefined) ?? "cpu" });
    const onnx = new OnnxEngine(await OnnxModel.load({ threads: 2, verify: false }));
    try {
      const tiny = { spatialSteps: 2, temporalSteps: 4, sampling: "strided" as const };
      const jobs = [
        { clip: bench[13]!.clip, caption: bench[13]!.caption, options: { ...tiny, seed: 1, appearanceAug: 0.75, augVariants: 3 } },
        { clip: bench[0]!.clip, caption: bench[0]!.caption, options: { ...tiny, seed: 2 } },
        { clip: bench[40]!.clip, caption: bench[40]!.caption, options: { ...tiny, seed: 3, appearanceAug: 1, augVariants: 2, augSpatialWeight: 0.5 } },
      ];
      const together = await Promise.all(tuneMany(torch, jobs));
      for (const [i, job] of jobs.entries()) {
        const loop = await tune(onnx, job.clip, job.caption, job.options);
        assert.ok(relNorm(together[i]!.temporal.lora.B, loop.temporal.lora.B) < 1e-3, `job ${i} temporal B`);
        for (const [k, l] of together[i]!.temporal.losses.entries())
          assert.ok(Math.abs(l - loop.temporal.losses[k]!) < 1e-3 * loop.temporal.losses[k]!, `job ${i} step ${k}: ${l} vs ${loop.temporal.losses[k]}`);
      }
      const plain = await tune(onnx, jobs[2]!.clip, jobs[2]!.caption, { ...tiny, seed: 3 });
      assert.ok(relNorm(together[2]!.temporal.lora.B, plain.temporal.lora.B) > 1e-3, "the bank changed what the LoRA learned");
    } finally {
      await torch.close();
      await onnx.model.release();
    }
  });
});
