import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ModelConfig } from "../engine/base-model.ts";
import { Rng } from "../core/rng.ts";
import { AdamW } from "./adamw.ts";
import { decodeLora, encodeLora, LoraFileError } from "./file.ts";
import { applyMasks, headMasks } from "./head-masks.ts";
import { offsets, zeroLora } from "./tensors.ts";

const cfg: ModelConfig = {
  frames: 16,
  size: 32,
  patch: 4,
  dim: 24,
  depth: 2,
  heads: 4,
  mlp_ratio: 4,
  text_dim: 8,
  text_layers: 1,
  text_heads: 2,
  vocab: 10,
  max_tokens: 8,
  lora_rank: 4,
  lora_slots: 2,
};
const base = { id: "test-model", sha256: "b".repeat(64) };

function randomLora(rank: number, seed: number) {
  const rng = new Rng(seed);
  const l = zeroLora(cfg, rank, rank * 2);
  // Only the first `rank` rows/columns are meaningful; padding stays zero.
  for (let blk = 0; blk < cfg.depth; blk++) {
    for (let p = 0; p < 4; p++) {
      const { a, b } = offsets(cfg, blk, p);
      for (let k = 0; k < rank * cfg.dim; k++) l.A[a + k] = rng.normal();
      for (let row = 0; row < cfg.dim; row++) for (let k = 0; k < rank; k++) l.B[b + row * cfg.lora_rank + k] = rng.normal();
    }
  }
  return l;
}

describe("LoRA files and the optimizer", () => {
  it("round-trips a LoRA through safetensors bit-exactly, padded ranks included", () => {
    for (const rank of [4, 2]) {
      const l = randomLora(rank, rank);
      const bytes = encodeLora(cfg, l, base, { stage: "temporal", heads: [[0, 2], [1]], tuning: { steps: 10 }, extra: { seed: "7" } });
      const back = decodeLora(cfg, bytes, base);
      assert.deepEqual(back.lora.A, l.A);
      assert.deepEqual(back.lora.B, l.B);
      assert.equal(back.lora.rank, rank);
      assert.equal(back.lora.alpha, rank * 2);
      assert.deepEqual(back.metadata.target_heads, [[0, 2], [1]]);
      assert.equal(back.raw.seed, "7");
      assert.deepEqual(encodeLora(cfg, back.lora, base, { stage: "temporal", heads: [[0, 2], [1]], tuning: { steps: 10 }, extra: { seed: "7" } }), bytes);
    }
  });

  it("uses peft's tensor names and shapes", () => {
    const bytes = encodeLora(cfg, zeroLora(cfg), base, { stage: "spatial", heads: [[], []], tuning: {} });
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + 400));
    assert.match(text, /"base_model\.model\.blocks\.0\.attn\.(q|k|v|o)\.lora_(A|B)\.weight":\{"dtype":"F32","shape":\[(4,24|24,4)\]/);
  });

  it("refuses a LoRA tuned on another base model, naming both", () => {
    const bytes = encodeLora(cfg, zeroLora(cfg), base, { stage: "temporal", heads: [[], []], tuning: {} });
    assert.throws(
      () => decodeLora(cfg, bytes, { id: "other", sha256: "c".repeat(64) }),
      (e: unknown) => e instanceof LoraFileError && e.code === "base_model_mismatch" && /test-model/.test(e.message) && /other/.test(e.message),
    );
  });

  it("refuses a truncated file with a clear error", () => {
    const bytes = encodeLora(cfg, zeroLora(cfg), base, { stage: "temporal", heads: [[], []], tuning: {} });
    assert.throws(
      () => decodeLora(cfg, bytes.subarray(0, bytes.length - 10), base),
      (e: unknown) => e instanceof LoraFileError && e.code === "invalid_lora_file",
    );
  });

  it("leaves the LoRA rows of non-target heads exactly zero through optimizer steps", () => {
    const heads = [[1], [0, 3]];
    const masks = headMasks(cfg, heads);
    const l = randomLora(4, 3);
    applyMasks(l, masks);
    const opt = new AdamW([l.A, l.B], { lr: 0.05, warmupSteps: 2 }, [masks.A, masks.B]);
    const rng = new Rng(9);
    for (let s = 0; s < 5; s++) opt.update([rng.normals(l.A.length), rng.normals(l.B.length)]);
    const hd = cfg.dim / cfg.heads;
    let changed = 0;
    for (let blk = 0; blk < cfg.depth; blk++) {
      for (let p = 0; p < 4; p++) {
        const { a, b } = offsets(cfg, blk, p);
        for (let h = 0; h < cfg.heads; h++) {
          const target = heads[blk]!.includes(h);
          for (let j = h * hd; j < (h + 1) * hd; j++) {
            for (let k = 0; k < cfg.lora_rank; k++) {
              const v = p < 3 ? l.B[b + j * cfg.lora_rank + k]! : l.A[a + k * cfg.dim + j]!;
              if (!target) assert.equal(v, 0, `block ${blk} proj ${p} head ${h} must stay zero`);
              else if (v !== 0) changed++;
            }
          }
        }
      }
    }
    assert.ok(changed > 0, "target heads were updated");
  });

  it("clips the global gradient norm and warms the learning rate up", () => {
    const p = new Float32Array([0, 0]);
    const opt = new AdamW([p], { lr: 0.1, warmupSteps: 10, weightDecay: 0, clipNorm: 1 });
    const norm = opt.update([new Float32Array([30, 40])]);
    assert.equal(norm, 50);
    // Adam's first step moves each element by lr (after warm-up scaling 1/10), whatever the gradient size.
    assert.ok(Math.abs(p[0]! + 0.01) < 1e-6 && Math.abs(p[1]! + 0.01) < 1e-6, `${p}`);
  });
});
