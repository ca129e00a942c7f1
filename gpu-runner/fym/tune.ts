import { checkClip, type Clip } from "../clip.ts";
import type { Engine, TrainGraph } from "../engine/engine.ts";
import { RunnerError } from "../errors.ts";
import { applyMasks, headMasks, type HeadSet } from "../lora/head-masks.ts";
import { slotScale, zeroLora, type LoraWeights } from "../lora/tensors.ts";
import { Rng } from "../rng.ts";
import { appearanceVariants } from "./augment.ts";
import { framePositions, sampleFrames, type FrameSampling, type RopeMode } from "./frame-sampling.ts";
import { probeHeads, type HeadClassification } from "./head-classification.ts";
import { openTrainer, type BankJob, type BankStep } from "./trainer.ts";

export interface TuneOptions {
  spatialSteps: number;
  temporalSteps: number;
  rank: number;
  lr: number;
  warmupSteps: number;
  seed: number;
  /** Sparse motion sampling; "dense" trains the temporal stage on every frame (the baseline). */
  sampling: FrameSampling | "dense";
  /** Frames per sparse temporal step; 0 takes the engine's sparse graph size. */
  sparseFrames: number;
  rope: RopeMode;
  /** Spatial and temporal LoRAs on their own heads (FYM), or both on every head (the naive baseline). */
  decoupleHeads: boolean;
  motionLossWeight: number;
  headMargin: number;
  /** FYM's rule: a head is temporal when S_spatial < α·S_temporal (after the margin); 1 compares them as they are. */
  headAlpha: number;
  /** Shifts the logit-normal timesteps towards noise (t' = s·t / (1 + (s−1)·t)), where a clip's layout and motion are decided; 1 is pretraining's distribution. */
  timestepShift: number;
  // Experimental, opt-in (absent = off; not in DEFAULT_TUNE, so the benchmarked recipe and its stamp stay as they are):
  /**
   * Appearance augmentation of the temporal stage (fym/augment.ts): the share of temporal steps that
   * train on a recoloured variant of the reference (objects and background moved to other palette
   * colours, the caption's colour words changed to match). A clip whose caption colours are not
   * found in its pixels trains unaugmented. 0 is off.
   */
  appearanceAug?: number;
  /** How many recoloured variants the bank holds (default 8). */
  augVariants?: number;
  /** The frozen spatial LoRA's weight on augmented steps (default 0: it encodes the original appearance). */
  augSpatialWeight?: number;
  /**
   * The projections the temporal LoRA may change, of "qkvo" (default all): "qk" lets it change only
   * where tokens attend (the correspondence motion needs), not what content they carry (v, o).
   */
  temporalProjections?: string;
  /**
   * Samples a temporal step trains on (default 1): k independent draws of the step's recipe (frames,
   * noise, timestep, appearance variant) of the same reference, the loss and gradient their mean, so a
   * step sees k times the data. Only engines that batch (the torch engine) take more than 1: there the
   * k samples are rows of the one batched step; the ONNX engine's graphs take one sample and refuse it
   * (TuneOptionError). The spatial stage keeps one sample a step. Measured (H100, TF32;
   * gpu-runner/bench/experiments/2026-11-25-samples-per-step-sweep, 16 cases × 2 seeds, paired against the default, and
   * RESULTS-batched-torch-h100.md, one tune alone): 4 samples × 700 steps keep the default's motion
   * fidelity (default − it = +0.00, −0.03…0.04) in 10.0–10.4 s against 17 s, 4 × 600 steps nearly
   * (+0.01, −0.03…0.06) in 9.2 s; a step of 4 samples costs 13.5 ms against 8.0 ms for one. Batched with other tunes it costs
   * throughput instead (k × steps rows: 4 × 700 is 2800 rows against the default's 2000).
   */
  samplesPerStep?: number;
  /**
   * Not a training option: the share of sampling steps, from noise, the LoRA should apply for when
   * generating (stamped in its tuning config; the runner's default for `until`). Default 1.
   */
  applyUntil?: number;
}

/** What the absence of an optional option means (DEFAULT_TUNE may set them otherwise). */
export const EXPERIMENTAL_DEFAULTS = {
  appearanceAug: 0,
  augVariants: 8,
  augSpatialWeight: 0,
  temporalProjections: "qkvo",
  applyUntil: 1,
  samplesPerStep: 1,
} as const;

/** A tune option this engine cannot honour: the job's input (final), refused before any compute; `option` names it. */
export class TuneOptionError extends RunnerError {
  override name = "TuneOptionError";
  constructor(
    readonly option: keyof TuneOptions,
    message: string,
  ) {
    super("unsupported_option", message, true);
  }
}

/** Most samples a temporal step may train on (rows of the batched step: memory grows with them). */
export const MAX_SAMPLES_PER_STEP = 16;

export const DEFAULT_TUNE: TuneOptions = {
  spatialSteps: 100,
  // The recipe that carries the most motion to a new prompt while keeping its appearance, measured
  // side by side in gpu-runner/bench/results/RESULTS-motionbench-torch-h100.md (48 cases × 3 prompts ×
  // 3 seeds, every recipe retrained in one run, paired): the temporal LoRA on every head and frame
  // (plain RoPE), half its steps on recoloured copies of the reference (appearanceAug 0.5), applied on
  // the first half of the sampling steps (applyUntil 0.5, config naive-aug@early10): motion fidelity
  // 0.68 against 0.55 for decoupled heads (paired +0.13, 0.10…0.17), appearance integrity 0.93 vs
  // 0.85, leakage 0.04 vs 0.06. Decoupled heads gained nothing once the augmentation removes the
  // appearance the LoRA would otherwise learn (and in the augmentation sweep,
  // gpu-runner/bench/experiments/2026-11-25-augmentation-sweep). FYM's sparse sampling loses the motion in this model
  // (fym-sparse 0.18); it stays an option for a fast, weaker LoRA (sampling "strided").
  // 2000 steps at 3e-3 is the cost of that motion: in the speed sweep (gpu-runner/bench/experiments/2026-11-25-speed-sweep,
  // 16 cases × 2 seeds, paired against the default) 1200 steps (10.8 s alone on the H100 against 17.2 s,
  // RESULTS-batched-torch-h100.md) lose 0.16 of motion fidelity (0.09…0.24), 1500 steps 0.13, 1000 and
  // 800 steps 0.27 and 0.34; a higher learning rate loses more (5e-3: −0.28 at 1200 steps; 8e-3
  // falls to 0.10–0.14, the floor's 0.07), and neither 2e-3 nor a 100-step warmup helps at 1200 steps.
  // 50 spatial steps keep the motion (−0.02, −0.08…0.03) but save no measurable time.
  temporalSteps: 2000,
  rank: 8,
  lr: 3e-3,
  warmupSteps: 10,
  seed: 0,
  sampling: "dense",
  sparseFrames: 0,
  rope: "plain",
  decoupleHeads: false,
  // No motion loss, margin 0, α 1: a motion-loss weight of 1, 3 or 10, α = 1.25 and 500 spatial steps
  // did not change motion fidelity beyond run-to-run noise (gpu-runner/bench/experiments/2026-11-24-recipe-sweep-2).
  motionLossWeight: 0,
  headMargin: 0,
  headAlpha: 1,
  timestepShift: 3,
  appearanceAug: 0.5,
  applyUntil: 0.5,
};

/** MotionBench v4 figures of DEFAULT_TUNE (H100, n = 432, 90% cluster-bootstrap intervals), stamped on the LoRAs it tunes. */
export const DEFAULT_TUNE_BENCHMARK = {
  file: "gpu-runner/bench/results/RESULTS-motionbench-torch-h100.md",
  config: "naive-aug@early10",
  motion_fidelity: { all: [0.68, 0.64, 0.72], id: [0.71, 0.65, 0.76], ood: [0.66, 0.61, 0.72] },
  no_lora: 0.1,
  naive_two_stage: 0.62,
  appearance_integrity: [0.93, 0.9, 0.96],
  leakage: 0.04,
} as const;

/**
 * The default recipe's form on an engine whose step carries several samples for little more than
 * one (a batched trainer: the torch engine): 4 samples a step × 600 temporal steps. The full
 * MotionBench, same run as the 1 × 2000 form (gpu-runner/bench/experiments/2026-11-25-samples-per-step-full, n = 432 each):
 * motion fidelity 0.69 (0.65…0.73) against 0.69 (0.64…0.73), paired 1 × 2000 − this = −0.00
 * (−0.02…0.01); appearance integrity 0.96 vs 0.94, leakage 0.02 vs 0.04; a whole tune alone on the
 * H100 9.2 s against 16.9 s (RESULTS-batched-torch-h100.md). Engines without a batched trainer
 * (ONNX) pay k steps for k samples, so they keep 1 × 2000.
 */
export const BATCHED_DEFAULT: Partial<TuneOptions> = { samplesPerStep: 4, temporalSteps: 600 };

/** MotionBench figures of the batched form, stamped on the LoRAs it tunes. */
export const BATCHED_DEFAULT_BENCHMARK = {
  file: "gpu-runner/bench/experiments/2026-11-25-samples-per-step-full/RESULTS.md",
  config: "k4-t600",
  motion_fidelity: { all: [0.69, 0.65, 0.73], id: [0.71, 0.65, 0.76], ood: [0.67, 0.62, 0.72] },
  no_lora: 0.1,
  appearance_integrity: [0.96, 0.93, 0.99],
  leakage: 0.02,
} as const;

/**
 * The default recipe on `engine`, given the options a job sets: the batched form where the engine
 * has a batched trainer and the job leaves the temporal steps to the recipe (a job that sets them
 * counts one-sample steps, as on every engine).
 */
export function defaultTuneFor(engine: Pick<Engine, "createTrainer">, partial: Partial<TuneOptions> = {}): TuneOptions {
  const batched = engine.createTrainer !== undefined && partial.temporalSteps === undefined && partial.samplesPerStep === undefined;
  return batched ? { ...DEFAULT_TUNE, ...BATCHED_DEFAULT } : DEFAULT_TUNE;
}

/** "default" when the options are DEFAULT_TUNE's or its batched form's (any seed), else "custom": what a LoRA card says of its recipe. */
export function recipeName(o: TuneOptions): "default" | "custom" {
  const keys = new Set([...Object.keys(DEFAULT_TUNE), ...Object.keys(EXPERIMENTAL_DEFAULTS)]) as Set<keyof TuneOptions>;
  const value = (x: Partial<TuneOptions>, k: keyof TuneOptions) => x[k] ?? (EXPERIMENTAL_DEFAULTS as Partial<TuneOptions>)[k];
  const same = (d: TuneOptions) => [...keys].every((k) => k === "seed" || value(o, k) === value(d, k));
  return same(DEFAULT_TUNE) || same({ ...DEFAULT_TUNE, ...BATCHED_DEFAULT }) ? "default" : "custom";
}

/** The benchmark figures a default-recipe LoRA carries: those of the form it was tuned with. */
export function defaultBenchmarkOf(o: TuneOptions) {
  return (o.samplesPerStep ?? 1) > 1 ? BATCHED_DEFAULT_BENCHMARK : DEFAULT_TUNE_BENCHMARK;
}

/** The options that make a recipe other than the default's: each baseline sets all of them. */
const PLAIN = { appearanceAug: 0, applyUntil: 1 } as const;

/** Follow-Your-Motion's sparse recipe (4 strided frames, adaptive RoPE, decoupled heads, 800 steps): fast and weak here. */
const SPARSE: Partial<TuneOptions> = { ...PLAIN, decoupleHeads: true, rope: "adaptive", sampling: "strided", temporalSteps: 800 };

/** The baselines of the ablations, as option sets of the same pipeline (names as the results files use them). */
export const BASELINES: Record<string, Partial<TuneOptions>> = {
  default: {},
  "default-batched": BATCHED_DEFAULT,
  "decoupled-dense": { ...PLAIN, decoupleHeads: true, rope: "adaptive" },
  "naive-two-stage": { ...PLAIN, decoupleHeads: false, rope: "plain" },
  "naive-aug": { decoupleHeads: false, rope: "plain", appearanceAug: 0.5, applyUntil: 1 },
  "fym-sparse": SPARSE,
  "fym-sparse-no-adaptive-rope": { ...SPARSE, rope: "plain" },
  "fym-sparse-no-decoupling": { ...SPARSE, decoupleHeads: false },
  "fym-sparse8-centred": { ...SPARSE, sparseFrames: 8, rope: "centred", temporalSteps: 2000 },
};

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

/** Frames one temporal step trains on, given the engine's graphs; the ONNX engine has 1, K and F. */
function temporalFrames(engine: Engine, o: TuneOptions): number {
  if (o.sampling === "dense") return engine.config.frames;
  return o.sparseFrames || engine.sparseFrames;
}

/** Jobs with the same key train in lockstep: stage step counts and frames a temporal step. */
export function stageShape(engine: Engine, o: TuneOptions): string {
  return JSON.stringify([o.spatialSteps, o.temporalSteps, temporalFrames(engine, o)]);
}

/** Checks a job before any compute: a bad option fails that job alone, at once. */
function prepare(engine: Engine, job: TuneJob): TuneOptions {
  const o = { ...defaultTuneFor(engine, job.options), ...job.options };
  const cfg = engine.config;
  checkClip(job.clip, cfg);
  if (!Number.isInteger(o.rank) || o.rank < 1 || o.rank > cfg.lora_rank) throw new RangeError(`rank must be 1–${cfg.lora_rank}, got ${o.rank}`);
  if (o.sampling === "dense" && o.sparseFrames)
    throw new RangeError(`sparseFrames applies to sparse sampling; set sampling to "strided" or "random", or leave sparseFrames 0`);
  const k = temporalFrames(engine, o);
  if (k < 2 || k > cfg.frames) throw new RangeError(`sparseFrames must be 2–${cfg.frames}, got ${k}`);
  const aug = o.appearanceAug ?? 0;
  if (!(aug >= 0 && aug <= 1)) throw new RangeError(`appearanceAug is a share of steps, 0–1; got ${aug}`);
  const nv = o.augVariants ?? EXPERIMENTAL_DEFAULTS.augVariants;
  if (!Number.isInteger(nv) || nv < 1 || nv > 32) throw new RangeError(`augVariants must be 1–32, got ${nv}`);
  if (!((o.augSpatialWeight ?? 0) >= 0)) throw new RangeError(`augSpatialWeight must be ≥ 0, got ${o.augSpatialWeight}`);
  const proj = o.temporalProjections ?? EXPERIMENTAL_DEFAULTS.temporalProjections;
  if (!/^[qkvo]+$/.test(proj)) throw new RangeError(`temporalProjections is a subset of "qkvo", got "${proj}"`);
  const samples = o.samplesPerStep ?? EXPERIMENTAL_DEFAULTS.samplesPerStep;
  if (!Number.isInteger(samples) || samples < 1 || samples > MAX_SAMPLES_PER_STEP)
    throw new RangeError(`samplesPerStep must be an integer 1–${MAX_SAMPLES_PER_STEP}, got ${samples}`);
  if (samples > 1 && !engine.createTrainer)
    throw new TuneOptionError(
      "samplesPerStep",
      `samplesPerStep ${samples}: the ${engine.name} engine trains one sample a step (its training graphs take a batch of 1, so k samples would cost k steps); leave samplesPerStep out or use the torch engine`,
    );
  if (!engine.createTrainer && k !== cfg.frames && k !== engine.sparseFrames) {
    throw new RangeError(`the ${engine.name} engine trains on ${engine.sparseFrames} or ${cfg.frames} frames a step; got sparseFrames ${k}`);
  }
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
 * Follow-Your-Motion tuning of several reference clips at once: each classifies its heads, tunes a
 * spatial LoRA on single frames (spatial heads), then a temporal LoRA with the spatial one frozen
 * (temporal heads, sparse frames, adaptive RoPE). Jobs with the same stage shapes train in
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

  async function stage(
    name: "spatial" | "temporal",
    graph: TrainGraph,
    frames: number,
    steps: number,
    allowed: (i: number) => HeadSet,
    frozen: (i: number) => LoraWeights | null,
    pick: (p: Pending, i: number) => { frames: number[]; pos: Float32Array; variant?: number; frozenGain?: number },
    lossWeights: (p: Pending) => [number, number],
    bank: (i: number) => Bank | null = () => null,
    projections: (p: Pending) => string = () => "qkvo",
    samples: (p: Pending) => number = () => 1,
  ): Promise<StageResult[]> {
    const loras = group.map((p) => initLora(engine, p.o.rank, p.rng));
    const masks = group.map((p, i) => onlyProjections(cfg, headMasks(cfg, allowed(i)), projections(p)));
    for (const [i, l] of loras.entries()) applyMasks(l, masks[i]!);
    const jobs: BankJob[] = group.map((p, i) => {
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
        const batch: BankStep[] = group.flatMap((p, i) =>
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
  const spatial = await stage(
    "spatial",
    "spatial",
    1,
    o0.spatialSteps,
    (i) => (group[i]!.o.decoupleHeads ? heads[i]!.spatial : all),
    () => null,
    (p) => {
      const f = p.rng.int(cfg.frames);
      return { frames: [f], pos: Float32Array.of(f) };
    },
    () => [1, 0],
  );
  const k = temporalFrames(engine, o0);
  const banks = await Promise.all(group.map((p, i) => appearanceBank(engine, p, texts[i]!)));
  const temporal = await stage(
    "temporal",
    k === cfg.frames ? "dense" : "sparse",
    k,
    o0.temporalSteps,
    (i) => (group[i]!.o.decoupleHeads ? heads[i]!.temporal : all),
    (i) => spatial[i]!.lora,
    (p, i) => {
      const frames = p.o.sampling === "dense" ? Array.from({ length: cfg.frames }, (_, i) => i) : sampleFrames(p.rng, cfg.frames, k, p.o.sampling);
      const pos = framePositions(frames, p.o.rope, cfg.frames);
      const b = banks[i];
      if (!b?.variants) return { frames, pos };
      // The bank's own generator decides augmented steps, so frames, noise and timesteps are those of the unaugmented recipe.
      const variant = b.rng.next() < b.share ? 1 + b.rng.int(b.variants) : 0;
      return { frames: frames.map((f) => f + variant * cfg.frames), pos, variant, frozenGain: variant ? b.spatialWeight : 1 };
    },
    (p) => [1, p.o.motionLossWeight],
    (i) => (banks[i]?.variants ? banks[i]! : null),
    (p) => p.o.temporalProjections ?? EXPERIMENTAL_DEFAULTS.temporalProjections,
    (p) => p.o.samplesPerStep ?? EXPERIMENTAL_DEFAULTS.samplesPerStep,
  );
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
  const { variants, refused } = appearanceVariants(p.job.clip, p.job.caption, p.o.augVariants ?? EXPERIMENTAL_DEFAULTS.augVariants, rng);
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
    spatialWeight: p.o.augSpatialWeight ?? EXPERIMENTAL_DEFAULTS.augSpatialWeight,
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
