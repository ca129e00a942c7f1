import type { Clip } from "../core/clip.ts";
import type { Engine, TrainerJob, TrainerStep, TrainGraph } from "../engine/engine.ts";
import { applyMasks, headMasks, type HeadSet } from "../lora/head-masks.ts";
import { slotScale, zeroLora, type LoraWeights } from "../lora/tensors.ts";
import { Rng } from "../core/rng.ts";
import { appearanceVariants } from "./augment.ts";
import { framePositions, sampleFrames } from "./frame-sampling.ts";
import { probeHeads, type HeadClassification } from "./head-classification.ts";
import { checkTuneOptions, OPTIONAL_DEFAULTS, temporalFrames, type TuneOptions } from "./options.ts";
import { defaultTuneFor } from "./recipes.ts";
import { openTrainer } from "./trainer.ts";

export interface Progress {
  stage: "heads" | "spatial" | "temporal";
  step: number;
  steps: number;
  loss: number | null;
  etaMs: number | null;
}

export interface StageResult {
  lora: LoraWeights;
  heads: HeadSet;
  losses: number[];
  /** Wall time of the stage; with `batch` > 1 it was shared by that many LoRAs trained together. */
  ms: number;
  batch: number;
}

export interface TuneResult {
  heads: HeadClassification;
  spatial: StageResult;
  temporal: StageResult;
  options: TuneOptions;
  engine: string;
  /** With appearanceAug: how many recoloured variants the temporal stage had, or why none. */
  augment?: { variants: number; captions: string[]; refused: string | null };
}

export interface TuneJob {
  clip: Clip;
  caption: string;
  options?: Partial<TuneOptions>;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

const ALL_HEADS = (depth: number, heads: number): HeadSet => Array.from({ length: depth }, () => Array.from({ length: heads }, (_, h) => h));

/** peft's default init: A uniform in ±1/√fan_in, B zero, so a new LoRA starts as the identity. */
function initLora(engine: Engine, rank: number, rng: Rng): LoraWeights {
  const cfg = engine.config;
  const l = zeroLora(cfg, rank, rank);
  const bound = 1 / Math.sqrt(cfg.dim);
  const per = cfg.lora_rank * cfg.dim;
  for (let blk = 0; blk < cfg.depth * 4; blk++) for (let k = 0; k < rank * cfg.dim; k++) l.A[blk * per + k] = (rng.next() * 2 - 1) * bound;
  return l;
}

/** Flow-matching timesteps: pretraining's logit-normal, shifted towards noise by `shift` (SD3's rule). */
function timestep(rng: Rng, shift: number): number {
  const t = 1 / (1 + Math.exp(-rng.normal()));
  return (shift * t) / (1 + (shift - 1) * t);
}

/** Jobs with the same key train in lockstep: stage step counts and frames a temporal step. */
export function stageShape(engine: Engine, o: TuneOptions): string {
  return JSON.stringify([o.spatialSteps, o.temporalSteps, temporalFrames(engine, o)]);
}

/** A job's options (the default recipe on this engine, then the job's own), checked before any compute. */
function prepare(engine: Engine, job: TuneJob): TuneOptions {
  const o = { ...defaultTuneFor(engine, job.options), ...job.options };
  checkTuneOptions(engine, o, job.clip);
  return o;
}

interface Pending {
  job: TuneJob;
  o: TuneOptions;
  rng: Rng;
  done: (r: TuneResult) => void;
  fail: (e: unknown) => void;
  dead: boolean;
}

/**
 * Follow-Your-Motion's two stages for several reference clips at once: each classifies its heads,
 * tunes a spatial LoRA on single frames, then a temporal LoRA with the spatial one frozen, on the
 * heads, frames and RoPE positions its recipe says (the default: every head and frame, half the
 * steps on recoloured references; FYM's own: temporal heads, sparse frames, adaptive RoPE). Jobs with the same stage shapes train in
 * lockstep through one trainer (one batched step on engines that batch); each job draws from its
 * own seeded generator, so its result is the one it would get alone. Returns one promise per job;
 * a job whose `signal` aborts is rejected at its next step while the others go on.
 */
export function tuneMany(engine: Engine, jobs: TuneJob[]): Promise<TuneResult>[] {
  const groups = new Map<string, Pending[]>();
  const promises = jobs.map(
    (job) =>
      new Promise<TuneResult>((done, fail) => {
        try {
          const o = prepare(engine, job);
          const key = stageShape(engine, o);
          groups.set(key, [...(groups.get(key) ?? []), { job, o, rng: new Rng(o.seed), done, fail, dead: false }]);
        } catch (e) {
          fail(e);
        }
      }),
  );
  void (async () => {
    for (const group of groups.values()) {
      try {
        await tuneGroup(engine, group);
      } catch (e) {
        for (const p of group) if (!p.dead) p.fail(e);
      }
    }
  })();
  return promises;
}

/** Tunes one reference clip (a batch of one). */
export async function tune(
  engine: Engine,
  clip: Clip,
  caption: string,
  partial: Partial<TuneOptions> = {},
  hooks: { onProgress?: (p: Progress) => void; signal?: AbortSignal } = {},
): Promise<TuneResult> {
  return tuneMany(engine, [{ clip, caption, options: partial, ...hooks }])[0]!;
}

async function tuneGroup(engine: Engine, group: Pending[]): Promise<void> {
  const cfg = engine.config;
  const all = ALL_HEADS(cfg.depth, cfg.heads);
  const texts: { text: Float32Array; mask: Float32Array }[] = [];
  const heads: HeadClassification[] = [];
  for (const p of group) {
    texts.push(await engine.encodeText(p.job.caption));
    p.job.onProgress?.({ stage: "heads", step: 0, steps: 1, loss: null, etaMs: null });
    heads.push(await probeHeads(engine, p.job.clip, p.job.caption, { seed: p.o.seed, margin: p.o.headMargin, alpha: p.o.headAlpha, encoded: texts.at(-1)! }));
  }
  const live = () => group.filter((p) => !p.dead);
  const checkAborts = () => {
    for (const p of group) {
      if (p.dead || !p.job.signal?.aborted) continue;
      p.dead = true;
      p.fail(p.job.signal.reason ?? new DOMException("aborted", "AbortError"));
    }
    if (!live().length) throw new DOMException("every job of the batch was aborted", "AbortError");
  };

  /** One stage's recipe for every job of the group (index i is the job's place in it). */
  interface StagePlan {
    name: "spatial" | "temporal";
    graph: TrainGraph;
    frames: number;
    steps: number;
    /** Heads the LoRA may change. */
    allowed: (i: number) => HeadSet;
    /** The LoRA held fixed beside the one trained (the spatial one, in the temporal stage). */
    frozen: (i: number) => LoraWeights | null;
    /** A step's frames, their RoPE positions and, on a bank, its appearance variant. */
    pick: (p: Pending, i: number) => { frames: number[]; pos: Float32Array; variant?: number; frozenGain?: number };
    lossWeights: (p: Pending) => [number, number];
    bank?: (i: number) => Bank | null;
    projections?: (p: Pending) => string;
    samples?: (p: Pending) => number;
  }

  async function stage(plan: StagePlan): Promise<StageResult[]> {
    const { name, graph, frames, steps, allowed, frozen, pick, lossWeights } = plan;
    const bank = plan.bank ?? (() => null);
    const projections = plan.projections ?? (() => "qkvo");
    const samples = plan.samples ?? (() => 1);
    const loras = group.map((p) => initLora(engine, p.o.rank, p.rng));
    const masks = group.map((p, i) => onlyProjections(cfg, headMasks(cfg, allowed(i)), projections(p)));
    for (const [i, l] of loras.entries()) applyMasks(l, masks[i]!);
    const jobs: TrainerJob[] = group.map((p, i) => {
      const f = frozen(i);
      const b = bank(i);
      return {
        clip: b?.clip ?? p.job.clip,
        ...(b && { texts: b.texts }),
        text: texts[i]!.text,
        textMask: texts[i]!.mask,
        init: { A: loras[i]!.A, B: loras[i]!.B },
        masks: masks[i]!,
        frozen: f ? { A: f.A, B: f.B, scale: slotScale(f) } : { A: new Float32Array(loras[i]!.A.length), B: new Float32Array(loras[i]!.B.length), scale: 0 },
        scale: slotScale(loras[i]!),
        lr: p.o.lr,
        warmupSteps: p.o.warmupSteps,
        lossWeights: lossWeights(p),
        ...(samples(p) !== 1 && { samples: samples(p) }),
      };
    });
    const trainer = await openTrainer(engine, graph, frames, jobs);
    const losses: number[][] = group.map(() => []);
    const t0 = performance.now();
    try {
      for (let s = 0; s < steps; s++) {
        checkAborts();
        // Each job's samples, one after another; each draws as a one-sample step does (k = 1 is that step).
        const batch: TrainerStep[] = group.flatMap((p, i) =>
          Array.from({ length: samples(p) }, () => {
            const { frames: f, pos, variant, frozenGain } = pick(p, i);
            return { frames: f, framePos: pos, seed: p.rng.int(2 ** 32), t: timestep(p.rng, p.o.timestepShift), variant, frozenGain };
          }),
        );
        const out = await trainer.step(batch);
        const elapsed = performance.now() - t0;
        group.forEach((p, i) => {
          losses[i]!.push(out[i]!.loss);
          if (!p.dead) p.job.onProgress?.({ stage: name, step: s + 1, steps, loss: out[i]!.loss, etaMs: (elapsed / (s + 1)) * (steps - s - 1) });
        });
      }
      const weights = await trainer.weights();
      const ms = performance.now() - t0;
      return group.map((_, i) => ({
        lora: { ...loras[i]!, A: weights[i]!.A, B: weights[i]!.B },
        heads: allowed(i),
        losses: losses[i]!,
        ms,
        batch: group.length,
      }));
    } finally {
      await trainer.close();
    }
  }

  const o0 = group[0]!.o;
  const spatial = await stage({
    name: "spatial",
    graph: "spatial",
    frames: 1,
    steps: o0.spatialSteps,
    allowed: (i) => (group[i]!.o.decoupleHeads ? heads[i]!.spatial : all),
    frozen: () => null,
    pick: (p) => {
      const f = p.rng.int(cfg.frames);
      return { frames: [f], pos: Float32Array.of(f) };
    },
    lossWeights: () => [1, 0],
  });
  const k = temporalFrames(engine, o0);
  const banks = await Promise.all(group.map((p, i) => appearanceBank(engine, p, texts[i]!)));
  const temporal = await stage({
    name: "temporal",
    graph: k === cfg.frames ? "dense" : "sparse",
    frames: k,
    steps: o0.temporalSteps,
    allowed: (i) => (group[i]!.o.decoupleHeads ? heads[i]!.temporal : all),
    frozen: (i) => spatial[i]!.lora,
    pick: (p, i) => {
      const frames = p.o.sampling === "dense" ? Array.from({ length: cfg.frames }, (_, i) => i) : sampleFrames(p.rng, cfg.frames, k, p.o.sampling);
      const pos = framePositions(frames, p.o.rope, cfg.frames);
      const b = banks[i];
      if (!b?.variants) return { frames, pos };
      // The bank's own generator decides augmented steps, so frames, noise and timesteps are those of the unaugmented recipe.
      const variant = b.rng.next() < b.share ? 1 + b.rng.int(b.variants) : 0;
      return { frames: frames.map((f) => f + variant * cfg.frames), pos, variant, frozenGain: variant ? b.spatialWeight : 1 };
    },
    lossWeights: (p) => [1, p.o.motionLossWeight],
    bank: (i) => (banks[i]?.variants ? banks[i]! : null),
    projections: (p) => p.o.temporalProjections ?? OPTIONAL_DEFAULTS.temporalProjections,
    samples: (p) => p.o.samplesPerStep ?? OPTIONAL_DEFAULTS.samplesPerStep,
  });
  group.forEach((p, i) => {
    const b = banks[i];
    const augment = b ? { variants: b.variants, captions: b.captions, refused: b.refused } : undefined;
    if (!p.dead) p.done({ heads: heads[i]!, spatial: spatial[i]!, temporal: temporal[i]!, options: p.o, engine: engine.name, ...(augment && { augment }) });
  });
}

/** A job's appearance bank for the temporal stage: the reference and its recoloured variants, one after another, with their captions encoded. */
interface Bank {
  clip: Clip;
  texts: { text: Float32Array; mask: Float32Array }[];
  captions: string[];
  variants: number;
  refused: string | null;
  share: number;
  spatialWeight: number;
  rng: Rng;
}

async function appearanceBank(engine: Engine, p: Pending, original: { text: Float32Array; mask: Float32Array }): Promise<Bank | null> {
  const share = p.o.appearanceAug ?? 0;
  if (!(share > 0)) return null;
  const rng = new Rng((p.o.seed ^ 0x61756721) >>> 0);
  const { variants, refused } = appearanceVariants(p.job.clip, p.job.caption, p.o.augVariants ?? OPTIONAL_DEFAULTS.augVariants, rng);
  const texts = [original];
  for (const v of variants) texts.push(await engine.encodeText(v.caption));
  const per = p.job.clip.data.length;
  const data = new Float32Array(per * (1 + variants.length));
  data.set(p.job.clip.data);
  for (const [k, v] of variants.entries()) data.set(v.clip.data, (k + 1) * per);
  return {
    clip: { frames: p.job.clip.frames * (1 + variants.length), size: p.job.clip.size, data },
    texts,
    captions: variants.map((v) => v.caption),
    variants: variants.length,
    refused,
    share,
    spatialWeight: p.o.augSpatialWeight ?? OPTIONAL_DEFAULTS.augSpatialWeight,
    rng,
  };
}

/** Masks with the projections not named in `keep` (of "qkvo") zeroed in every block. */
function onlyProjections(cfg: Engine["config"], masks: { A: Uint8Array; B: Uint8Array }, keep: string) {
  if (keep.length === 4 && [..."qkvo"].every((c) => keep.includes(c))) return masks;
  const per = cfg.lora_rank * cfg.dim;
  for (let blk = 0; blk < cfg.depth; blk++)
    [..."qkvo"].forEach((name, p) => {
      if (keep.includes(name)) return;
      const at = (blk * 4 + p) * per;
      masks.A.fill(0, at, at + per);
      masks.B.fill(0, at, at + per);
    });
  return masks;
}
