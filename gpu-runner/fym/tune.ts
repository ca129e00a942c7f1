import { AdamW } from "../lora/adamw.ts";
import { applyMasks, headMasks, type HeadSet } from "../lora/heads.ts";
import { slotScale, zeroLora, type LoraWeights } from "../lora/tensors.ts";
import { checkClip, selectFrames, type Clip } from "./clip.ts";
import type { Engine, TrainGraph } from "./engine.ts";
import { framePositions, sampleFrames, type FrameSampling, type RopeMode } from "./frames.ts";
import { probeHeads, type HeadClassification } from "./heads.ts";
import { Rng } from "./rng.ts";

export interface TuneOptions {
  spatialSteps: number;
  temporalSteps: number;
  rank: number;
  lr: number;
  warmupSteps: number;
  seed: number;
  /** Sparse motion sampling; "dense" trains the temporal stage on every frame (the baseline). */
  sampling: FrameSampling | "dense";
  rope: RopeMode;
  /** Spatial and temporal LoRAs on their own heads (FYM), or both on every head (the naive baseline). */
  decoupleHeads: boolean;
  motionLossWeight: number;
  headMargin: number;
  /** Shifts the logit-normal timesteps towards noise (t' = s·t / (1 + (s−1)·t)), where a clip's layout and motion are decided; 1 is pretraining's distribution. */
  timestepShift: number;
}

export const DEFAULT_TUNE: TuneOptions = {
  spatialSteps: 100,
  // 800 steps at lr 3e-3 with timesteps shifted towards noise (shift 3): the setting that carried
  // motion to new prompts in gpu-runner/bench/RESULTS-reproduce-cpu-diag2.md (transfer correlation
  // 0.28 over one clip per category vs −0.13 without a LoRA; the earlier 200 steps at 1e-3 gave −0.15).
  temporalSteps: 800,
  rank: 8,
  lr: 3e-3,
  warmupSteps: 10,
  seed: 0,
  sampling: "strided",
  rope: "adaptive",
  decoupleHeads: true,
  // Both measured in gpu-runner/bench/RESULTS-reproduce-cpu-ablate-loss-margin.md: a ±0.05 head
  // margin and a motion-loss weight of 0.5 each lowered transfer (0.05 / 0.18 / 0.25 vs 0.28).
  motionLossWeight: 0,
  headMargin: 0,
  timestepShift: 3,
};

/** The baselines of the ablations, as option sets of the same pipeline. */
export const BASELINES: Record<string, Partial<TuneOptions>> = {
  fym: {},
  "naive-two-stage": { decoupleHeads: false, sampling: "dense", rope: "plain" },
  "fym-no-sparse": { sampling: "dense" },
  "fym-no-adaptive-rope": { rope: "plain" },
  "fym-no-decoupling": { decoupleHeads: false },
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
  ms: number;
}

export interface TuneResult {
  heads: HeadClassification;
  spatial: StageResult;
  temporal: StageResult;
  options: TuneOptions;
  engine: string;
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

/**
 * Follow-Your-Motion tuning of one reference clip: classify heads, tune a spatial LoRA on single
 * frames (spatial heads), then a temporal LoRA with the spatial one frozen (temporal heads, sparse
 * frames, adaptive RoPE). Reports progress and stops between steps when `signal` aborts.
 */
export async function tune(
  engine: Engine,
  clip: Clip,
  caption: string,
  partial: Partial<TuneOptions> = {},
  hooks: { onProgress?: (p: Progress) => void; signal?: AbortSignal } = {},
): Promise<TuneResult> {
  const o = { ...DEFAULT_TUNE, ...partial };
  const cfg = engine.config;
  checkClip(clip, cfg);
  if (o.rank < 1 || o.rank > cfg.lora_rank) throw new RangeError(`rank must be 1–${cfg.lora_rank}, got ${o.rank}`);
  const rng = new Rng(o.seed);
  const { text, mask } = await engine.encodeText(caption);
  hooks.onProgress?.({ stage: "heads", step: 0, steps: 1, loss: null, etaMs: null });
  const heads = await probeHeads(engine, clip, caption, { seed: o.seed, margin: o.headMargin });
  const all = ALL_HEADS(cfg.depth, cfg.heads);

  async function stage(
    name: "spatial" | "temporal",
    steps: number,
    allowed: HeadSet,
    frozen: LoraWeights | null,
    pick: () => { graph: TrainGraph; frames: number[]; pos: Float32Array },
    lossWeights: [number, number],
  ): Promise<StageResult> {
    const lora = initLora(engine, o.rank, rng);
    const masks = headMasks(cfg, allowed);
    applyMasks(lora, masks);
    const opt = new AdamW([lora.A, lora.B], { lr: o.lr, warmupSteps: o.warmupSteps, weightDecay: 0 }, [masks.A, masks.B]);
    const frozenSlot = frozen ? { A: frozen.A, B: frozen.B, scale: slotScale(frozen) } : { A: new Float32Array(lora.A.length), B: new Float32Array(lora.B.length), scale: 0 };
    const losses: number[] = [];
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) {
      hooks.signal?.throwIfAborted();
      const { graph, frames, pos } = pick();
      const x0 = selectFrames(clip, frames).data;
      const out = await engine.trainStep(graph, {
        x0, noise: rng.normals(x0.length), t: timestep(rng, o.timestepShift), text, textMask: mask, framePos: pos,
        frozen: frozenSlot, lora: { A: lora.A, B: lora.B, scale: slotScale(lora) }, lossWeights,
      });
      opt.update([out.gradA, out.gradB]);
      losses.push(out.loss);
      const elapsed = performance.now() - t0;
      hooks.onProgress?.({ stage: name, step: s + 1, steps, loss: out.loss, etaMs: (elapsed / (s + 1)) * (steps - s - 1) });
    }
    return { lora, heads: allowed, losses, ms: performance.now() - t0 };
  }

  const spatial = await stage(
    "spatial",
    o.spatialSteps,
    o.decoupleHeads ? heads.spatial : all,
    null,
    () => {
      const f = rng.int(cfg.frames);
      return { graph: "spatial", frames: [f], pos: Float32Array.of(f) };
    },
    [1, 0],
  );
  const k = engine.sparseFrames;
  const temporal = await stage(
    "temporal",
    o.temporalSteps,
    o.decoupleHeads ? heads.temporal : all,
    spatial.lora,
    () => {
      if (o.sampling === "dense") {
        const frames = Array.from({ length: cfg.frames }, (_, i) => i);
        return { graph: "dense", frames, pos: framePositions(frames, o.rope) };
      }
      const frames = sampleFrames(rng, cfg.frames, k, o.sampling);
      return { graph: "sparse", frames, pos: framePositions(frames, o.rope) };
    },
    [1, o.motionLossWeight],
  );
  return { heads, spatial, temporal, options: o, engine: engine.name };
}
