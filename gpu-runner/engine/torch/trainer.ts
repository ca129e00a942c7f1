// N LoRAs trained in the torch process (gpu-runner/model/fymnet/training/trainer_group.py): weights, AdamW
// state and reference clips stay on the device, a step sends frame indices, positions, timesteps
// and noise seeds.
import type { ModelConfig } from "../base-model.ts";
import type { SharedOptim, Trainer, TrainerJob, TrainerStep } from "../engine.ts";
import { TorchEngineError, type TorchProcess } from "./process.ts";

function catArrays(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export async function createTorchTrainer(torch: TorchProcess, c: ModelConfig, frames: number, jobs: TrainerJob[], optim: SharedOptim): Promise<Trainer> {
  const n = jobs.length;
  // Samples a step per LoRA (TrainerJob.samples): a step sends R = Σk rows, each LoRA's one after another.
  const ks = jobs.map((j) => j.samples ?? 1);
  for (const k of ks) if (!Number.isInteger(k) || k < 1) throw new RangeError(`samples per step must be an integer ≥ 1, got ${k}`);
  const R = ks.reduce((s, k) => s + k, 0);
  const id = `trainer-${torch.nextId()}`;
  const cat = (get: (j: TrainerJob, i: number) => Float32Array) => catArrays(jobs.map(get));
  const a = [n, c.depth, 4, c.lora_rank, c.dim];
  const b = [n, c.depth, 4, c.dim, c.lora_rank];
  const all = new Set(["clips", "text", "frozen_A", "frozen_B", "lora_A", "lora_B", "mask_A", "mask_B"]);
  const generation = torch.generation;
  // Appearance banks (TrainerJob.texts): V clips and captions per LoRA, a job with
  // fewer padded with its original (never picked); without banks V = 1 and the tensors are as before.
  const banks = jobs.map((j) => j.texts ?? [{ text: j.text, mask: j.textMask }]);
  const V = Math.max(...banks.map((k) => k.length));
  const per = c.frames * 3 * c.size * c.size;
  const pad = <T>(xs: T[]) => Array.from({ length: V }, (_, v) => xs[v] ?? xs[0]!);
  const bankClip = (j: TrainerJob, i: number) => {
    if (j.clip.data.length !== banks[i]!.length * per)
      throw new RangeError(`a bank of ${banks[i]!.length} captions needs ${banks[i]!.length * c.frames} frames, got ${j.clip.frames}`);
    const out = new Float32Array(V * per);
    out.set(j.clip.data);
    for (let v = banks[i]!.length; v < V; v++) out.set(j.clip.data.subarray(0, per), v * per);
    return out;
  };
  await torch.call(
    "trainer_init",
    {
      clips: { data: cat(bankClip), shape: [n, V * c.frames, 3, c.size, c.size] },
      text: { data: cat((_, i) => catArrays(pad(banks[i]!).map((k) => k.text))), shape: [n, V, c.max_tokens, c.text_dim] },
      text_mask: { data: cat((_, i) => catArrays(pad(banks[i]!).map((k) => k.mask))), shape: [n, V, c.max_tokens] },
      frozen_A: { data: cat((j) => j.frozen.A), shape: a },
      frozen_B: { data: cat((j) => j.frozen.B), shape: b },
      frozen_scale: { data: Float32Array.from(jobs, (j) => j.frozen.scale), shape: [n] },
      lora_A: { data: cat((j) => j.init.A), shape: a },
      lora_B: { data: cat((j) => j.init.B), shape: b },
      lora_scale: { data: Float32Array.from(jobs, (j) => j.scale), shape: [n] },
      mask_A: { data: cat((j) => Float32Array.from(j.masks.A)), shape: a },
      mask_B: { data: cat((j) => Float32Array.from(j.masks.B)), shape: b },
      lr: { data: Float32Array.from(jobs, (j) => j.lr), shape: [n] },
      warmup_steps: { data: Float32Array.from(jobs, (j) => j.warmupSteps), shape: [n] },
      loss_weights: { data: Float32Array.from(jobs.flatMap((j) => j.lossWeights)), shape: [n, 2] },
      ...(R !== n && { samples: { data: Float32Array.from(ks), shape: [n] } }),
    },
    {
      trainer: id,
      hp: JSON.stringify({ weight_decay: optim.weightDecay, beta1: optim.betas[0], beta2: optim.betas[1], eps: optim.eps, clip_norm: optim.clipNorm }),
    },
    all,
  );
  const alive = () => {
    if (torch.generation !== generation)
      throw new TorchEngineError("engine_crashed", "the torch process was restarted and lost this trainer's LoRAs; tune again");
  };
  return {
    size: n,
    step: async (steps: TrainerStep[]) => {
      alive();
      if (steps.length !== R) throw new RangeError(`a step of this trainer takes ${R} samples (${ks.join(" + ")}), got ${steps.length}`);
      const out = await torch.call(
        "trainer_step",
        {
          frames: { data: Float32Array.from(steps.flatMap((s) => s.frames)), shape: [R, frames] },
          frame_pos: { data: Float32Array.from(steps.flatMap((s) => [...s.framePos])), shape: [R, frames] },
          t: { data: Float32Array.from(steps, (s) => s.t), shape: [R] },
          seeds: { data: BigInt64Array.from(steps, (s) => BigInt(s.seed)), shape: [R] },
          ...(V > 1 && {
            variant: { data: Float32Array.from(steps, (s) => s.variant ?? 0), shape: [R] },
            frozen_gain: { data: Float32Array.from(steps, (s) => s.frozenGain ?? 1), shape: [R] },
          }),
        },
        { trainer: id },
      );
      return jobs.map((_, i) => ({ loss: out.loss![i]!, terms: [out.loss_terms![2 * i]!, out.loss_terms![2 * i + 1]!] as [number, number] }));
    },
    weights: async () => {
      alive();
      const out = await torch.call("trainer_weights", {}, { trainer: id });
      const per = (x: Float32Array) => jobs.map((_, i) => x.slice((i * x.length) / n, ((i + 1) * x.length) / n));
      const A = per(out.lora_A!);
      const B = per(out.lora_B!);
      return jobs.map((_, i) => ({ A: A[i]!, B: B[i]! }));
    },
    close: async () => {
      if (torch.generation === generation && torch.alive) await torch.call("trainer_free", {}, { trainer: id }).catch(() => {});
    },
  };
}
