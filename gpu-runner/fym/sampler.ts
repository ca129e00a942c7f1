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
  return generateMany(engine, [opts])[0]!;
}

/** A generation under way: its fixed inputs, its latent and how it ends. */
interface Running {
  o: GenerateOptions;
  steps: number;
  guidance: number;
  x: Float32Array;
  text: Float32Array;
  mask: Float32Array;
  slotsAt: (i: number) => Slots;
  done: (clip: Clip) => void;
  fail: (e: unknown) => void;
}

/**
 * Several generations in lockstep, each step one batched denoiser call on engines that batch (else
 * one generation after another: a batch would cost the same calls). Returns one promise per
 * generation, its clip equal to what `generate` gives alone (each has its own noise, timesteps and
 * LoRA slots, so step counts may differ). Each fails alone: bad inputs before its first step, a
 * `signal` that aborts at its next step, while the others go on; an engine failure fails the batch.
 */
export function generateMany(engine: Engine, list: GenerateOptions[]): Promise<Clip>[] {
  const ends: Pick<Running, "done" | "fail">[] = [];
  const promises = list.map((_, k) => new Promise<Clip>((done, fail) => (ends[k] = { done, fail })));
  const groups = engine.denoiseMany ? [list.map((o, k) => ({ o, ...ends[k]! }))] : list.map((o, k) => [{ o, ...ends[k]! }]);
  void (async () => {
    for (const group of groups) await lockstep(engine, group);
  })();
  return promises;
}

async function lockstep(engine: Engine, group: { o: GenerateOptions; done: Running["done"]; fail: Running["fail"] }[]): Promise<void> {
  const cfg = engine.config;
  const n = cfg.frames * 3 * cfg.size * cfg.size;
  const framePos = Float32Array.from({ length: cfg.frames }, (_, i) => i);
  let live: Running[] = [];
  for (const g of group) {
    try {
      g.o.signal?.throwIfAborted();
      // 20 steps at guidance 4: colour 100%, shape 95.3% on held-out captions (gpu-runner/model/runs/finish4/quality.md;
      // guidance 6 and shift 2 were no better there).
      const steps = g.o.steps ?? 20;
      live.push({ ...g, ...(await conditioning(engine, g.o)), steps, guidance: g.o.guidance ?? 4, x: new Rng(g.o.seed ?? 0).normals(n) });
      g.o.onStep?.(0, steps);
    } catch (e) {
      g.fail(e);
    }
  }
  try {
    for (let i = 0; ; i++) {
      for (const g of live) if (i >= g.steps) g.done({ frames: cfg.frames, size: cfg.size, data: clamp(g.x) });
      // A canceled generation leaves here, at its next step; the others go on.
      for (const g of live) if (i < g.steps && g.o.signal?.aborted) g.fail(g.o.signal.reason ?? new DOMException("aborted", "AbortError"));
      live = live.filter((g) => i < g.steps && !g.o.signal?.aborted);
      if (!live.length) return;
      const ts = live.map((g) => 1 - i / g.steps);
      const items = live.map((g, k) => {
        const pair = new Float32Array(2 * n);
        pair.set(g.x);
        pair.set(g.x, n);
        return { x: pair, t: Float32Array.of(ts[k]!, ts[k]!), text: g.text, mask: g.mask, slots: g.slotsAt(i) };
      });
      const vs =
        items.length > 1 && engine.denoiseMany
          ? await engine.denoiseMany(items, framePos)
          : [await engine.denoise(items[0]!.x, items[0]!.t, items[0]!.text, items[0]!.mask, framePos, items[0]!.slots)];
      for (const [k, g] of live.entries()) {
        eulerStep(g.x, vs[k]!, 1 - (i + 1) / g.steps - ts[k]!, g.guidance);
        g.o.onStep?.(i + 1, g.steps);
      }
    }
  } catch (e) {
    for (const g of live) g.fail(e);
  }
}
