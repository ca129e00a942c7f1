import { checkClip, type Clip } from "../core/clip.ts";
import type { Engine } from "../engine/engine.ts";
import { RunnerError } from "../core/errors.ts";
import type { FrameSampling, RopeMode } from "./frame-sampling.ts";

/**
 * Everything a tune can be told. The default of each field, and why, is the default recipe's file
 * (fym/recipes/default.json); its range is checked by `checkTuneOptions`, against the engine it runs on.
 */
export interface TuneOptions {
  spatialSteps: number;
  temporalSteps: number;
  rank: number;
  lr: number;
  warmupSteps: number;
  seed: number;
  /** Sparse motion sampling; "dense" trains the temporal stage on every frame. */
  sampling: FrameSampling | "dense";
  /** Frames per sparse temporal step; 0 takes the engine's sparse graph size. */
  sparseFrames: number;
  /** Temporal positions of sparse frames: their own indices (adaptive), renumbered (plain), or centred. */
  rope: RopeMode;
  /** Spatial and temporal LoRAs on their own heads (FYM), or both on every head (the naive baseline). */
  decoupleHeads: boolean;
  motionLossWeight: number;
  headMargin: number;
  /** FYM's rule: a head is temporal when S_spatial < α·S_temporal (after the margin); 1 compares them as they are. */
  headAlpha: number;
  /** Shifts the logit-normal timesteps towards noise (t' = s·t / (1 + (s−1)·t)), where a clip's layout and motion are decided; 1 is pretraining's distribution. */
  timestepShift: number;
  /**
   * Appearance augmentation of the temporal stage (fym/augment.ts): the share of temporal steps that
   * train on a recoloured variant of the reference. A clip whose caption colours are not found in its
   * pixels trains unaugmented. Absent = 0.
   */
  appearanceAug?: number;
  /** How many recoloured variants the bank holds. */
  augVariants?: number;
  /** The frozen spatial LoRA's weight on augmented steps (0: it encodes the original appearance). */
  augSpatialWeight?: number;
  /** The projections the temporal LoRA may change, of "qkvo". */
  temporalProjections?: string;
  /**
   * Samples a temporal step trains on: k independent draws (frames, noise, timestep, appearance
   * variant) of the same reference, the gradient their mean. Only engines with a batched trainer
   * (torch) take more than 1, as rows of one batched step; the spatial stage keeps one sample a step.
   */
  samplesPerStep?: number;
  /** Not a training option: the share of sampling steps, from noise, the LoRA should apply for (stamped in its tuning config). */
  applyUntil?: number;
}

/** What the absence of an optional option means (a recipe may set them otherwise). */
export const OPTIONAL_DEFAULTS = {
  appearanceAug: 0,
  augVariants: 8,
  augSpatialWeight: 0,
  temporalProjections: "qkvo",
  applyUntil: 1,
  samplesPerStep: 1,
} as const satisfies Partial<TuneOptions>;

/** Most samples a temporal step may train on (rows of the batched step: memory grows with them). */
export const MAX_SAMPLES_PER_STEP = 16;

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

/** Frames one temporal step trains on, given the engine's graphs; the ONNX engine has 1, K and F. */
export function temporalFrames(engine: Pick<Engine, "config" | "sparseFrames">, o: TuneOptions): number {
  if (o.sampling === "dense") return engine.config.frames;
  return o.sparseFrames || engine.sparseFrames;
}

/** Checks a tune's options and clip against the engine before any compute: a bad one fails that job alone, at once. */
export function checkTuneOptions(engine: Pick<Engine, "config" | "sparseFrames" | "createTrainer" | "name">, o: TuneOptions, clip: Clip): void {
  const cfg = engine.config;
  checkClip(clip, cfg);
  if (!Number.isInteger(o.rank) || o.rank < 1 || o.rank > cfg.lora_rank) throw new RangeError(`rank must be 1–${cfg.lora_rank}, got ${o.rank}`);
  if (o.sampling === "dense" && o.sparseFrames)
    throw new RangeError(`sparseFrames applies to sparse sampling; set sampling to "strided" or "random", or leave sparseFrames 0`);
  const k = temporalFrames(engine, o);
  if (k < 2 || k > cfg.frames) throw new RangeError(`sparseFrames must be 2–${cfg.frames}, got ${k}`);
  const aug = o.appearanceAug ?? OPTIONAL_DEFAULTS.appearanceAug;
  if (!(aug >= 0 && aug <= 1)) throw new RangeError(`appearanceAug is a share of steps, 0–1; got ${aug}`);
  const nv = o.augVariants ?? OPTIONAL_DEFAULTS.augVariants;
  if (!Number.isInteger(nv) || nv < 1 || nv > 32) throw new RangeError(`augVariants must be 1–32, got ${nv}`);
  if (!((o.augSpatialWeight ?? 0) >= 0)) throw new RangeError(`augSpatialWeight must be ≥ 0, got ${o.augSpatialWeight}`);
  const proj = o.temporalProjections ?? OPTIONAL_DEFAULTS.temporalProjections;
  if (!/^[qkvo]+$/.test(proj)) throw new RangeError(`temporalProjections is a subset of "qkvo", got "${proj}"`);
  const samples = o.samplesPerStep ?? OPTIONAL_DEFAULTS.samplesPerStep;
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
}
