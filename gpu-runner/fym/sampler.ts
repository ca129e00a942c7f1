import type { Clip } from "../core/clip.ts";
import type { Engine, Slots } from "../engine/engine.ts";
import type { LoraWeights } from "../lora/tensors.ts";
import { slotScale, zeroLora } from "../lora/tensors.ts";
import { Rng } from "../core/rng.ts";

export interface GenerateOptions {
  prompt: string;
  /**
   * Up to the model's slot count; the motion LoRA alone is what a user applies to a new prompt.
   * `until`: the share of steps, from pure noise, the LoRA applies for (default 1, every step).
   */
  loras?: { lora: LoraWeights; weight: number; until?: number }[];
  steps?: number;
  guidance?: number;
  seed?: number;
  /**
   * The LoRAs apply on the first `loraSteps` denoising steps only (the high-noise ones, where layout
   * and motion are decided); later steps run the base model. Default: every step.
   */
  loraSteps?: number;
  onStep?: (step: number, steps: number) => void;
  signal?: AbortSignal;
}

/** Packs up to `slots` LoRAs into the graph's slot tensors; empty slots are zero (free). */
export function packSlots(engine: Engine, loras: { lora: LoraWeights; weight: number }[]): Slots {
  const cfg = engine.config;
  if (loras.length > cfg.lora_slots) throw new RangeError(`at most ${cfg.lora_slots} LoRAs apply at once; got ${loras.length}`);
  const one = zeroLora(cfg);
  const A = new Float32Array(cfg.lora_slots * one.A.length);
  const B = new Float32Array(cfg.lora_slots * one.B.length);
  const scale = new Float32Array(cfg.lora_slots);
  loras.forEach(({ lora, weight }, s) => {
    A.set(lora.A, s * one.A.length);
    B.set(lora.B, s * one.B.length);
    scale[s] = slotScale(lora, weight);
  });
  return { A, B, scale };
}

/** A generation's fixed inputs: the (cond, uncond) caption pair and its LoRA slots. */
async function conditioning(engine: Engine, opts: GenerateOptions) {
  const cond = await engine.encodeText(opts.prompt);
  const uncond = await engine.encodeText("");
  const text = new Float32Array(cond.text.length * 2);
  text.set(cond.text);
  text.set(uncond.text, cond.text.length);
  const mask = new Float32Array(cond.mask.length * 2);
  mask.set(cond.mask);
  mask.set(uncond.mask, cond.mask.length);
  const loras = opts.loras ?? [];
  const slots = packSlots(engine, loras);
  const steps = opts.steps ?? 20;
  // The step each slot stops at: past it, the same slot tensors (still held by an engine that caches
  // them) at scale 0.
  const stop = loras.map((l) => Math.min(opts.loraSteps ?? steps, Math.round((l.until ?? 1) * steps)));
  const at = new Map<string, Slots>();
  const slotsAt = (i: number): Slots => {
    const on = stop.map((s) => i < s);
    const key = on.join();
    if (on.every(Boolean)) return slots;
    if (!at.has(key)) at.set(key, { A: slots.A, B: slots.B, scale: slots.scale.map((x, j) => (on[j] === false ? 0 : x)) });
    return at.get(key)!;
  };
  return { text, mask, slots, slotsAt };
}

/** One guided Euler step of x in place, from the (cond, uncond) velocities `v`. */
function eulerStep(x: Float32Array, v: Float32Array, dt: number, guidance: number): void {
  const n = x.length;
  for (let j = 0; j < n; j++) {
    const vu = v[n + j]!;
    x[j] = x[j]! + dt * (vu + guidance * (v[j]! - vu));
  }
}

const clamp = (x: Float32Array) => {
  for (let j = 0; j < x.length; j++) x[j] = Math.min(1, Math.max(-1, x[j]!));
  return x;
};

/**
 * Rectified-flow sampling: Euler steps from t = 1 (noise) to 0 with classifier-free guidance,
 * conditional and unconditional predictions in one batch-2 call. Deterministic for a seed and provider.
 */
export async function generate(engine: Engine, opts: GenerateOptions): Promise<Clip> {
  const cfg = engine.config;
  // 20 steps at guidance 4: colour 100%, shape 95.3% on held-out captions (gpu-runner/model/runs/finish4/quality.md;
  // guidance 6 and shift 2 were no better there).
  const steps = opts.steps ?? 20;
  const guidance = opts.guidance ?? 4;
  const n = cfg.frames * 3 * cfg.size * cfg.size;
  const { text, mask, slotsAt } = await conditioning(engine, opts);
  const framePos = Float32Array.from({ length: cfg.frames }, (_, i) => i);
  const x = new Rng(opts.seed ?? 0).normals(n);
  const pair = new Float32Array(2 * n);
  for (let i = 0; i < steps; i++) {
    opts.signal?.throwIfAborted();
    const t = 1 - i / steps;
    pair.set(x);
    pair.set(x, n);
    const v = await engine.denoise(pair, Float32Array.of(t, t), text, mask, framePos, slotsAt(i));
    eulerStep(x, v, 1 - (i + 1) / steps - t, guidance);
    opts.onStep?.(i + 1, steps);
  }
  return { frames: cfg.frames, size: cfg.size, data: clamp(x) };
}

/**
 * Several generations in lockstep, each step one batched denoiser call on engines that batch
 * (else one after another). Each clip equals what `generate` gives for the same options.
 */
export async function generateMany(engine: Engine, list: GenerateOptions[]): Promise<Clip[]> {
  const steps = list[0]?.steps ?? 20;
  if (!engine.denoiseMany || list.length < 2 || list.some((o) => (o.steps ?? 20) !== steps)) {
    const out: Clip[] = [];
    for (const o of list) out.push(await generate(engine, o));
    return out;
  }
  const cfg = engine.config;
  const n = cfg.frames * 3 * cfg.size * cfg.size;
  const framePos = Float32Array.from({ length: cfg.frames }, (_, i) => i);
  const items = [];
  for (const o of list) items.push({ ...(await conditioning(engine, o)), x: new Rng(o.seed ?? 0).normals(n), guidance: o.guidance ?? 4 });
  for (let i = 0; i < steps; i++) {
    for (const o of list) o.signal?.throwIfAborted();
    const t = 1 - i / steps;
    const vs = await engine.denoiseMany(
      items.map((it) => {
        const pair = new Float32Array(2 * n);
        pair.set(it.x);
        pair.set(it.x, n);
        return { x: pair, t: Float32Array.of(t, t), text: it.text, mask: it.mask, slots: it.slotsAt(i) };
      }),
      framePos,
    );
    for (const [k, it] of items.entries()) eulerStep(it.x, vs[k]!, 1 - (i + 1) / steps - t, it.guidance);
    for (const o of list) o.onStep?.(i + 1, steps);
  }
  return items.map((it) => ({ frames: cfg.frames, size: cfg.size, data: clamp(it.x) }));
}
