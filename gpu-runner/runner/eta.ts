import type { ModelConfig } from "../engine/base-model.ts";
import type { TuneOptions } from "../fym/options.ts";

/** What a tune will run: the steps of each stage, the frames a temporal step trains on, and the transfer sample's steps. */
export interface TunePlan {
  spatialSteps: number;
  temporalSteps: number;
  temporalFrames: number;
  /** Sampling steps of the transfer sample after tuning (0: none). */
  sampleSteps: number;
  /** Frames a sampling step denoises (the model's clip). */
  frames: number;
}

/** The plan of resolved tune options: dense sampling trains on every frame, sparse on the engine's few. */
export const tunePlan = (o: TuneOptions, cfg: ModelConfig, sparseFrames: number, sampleSteps: number): TunePlan => ({
  spatialSteps: o.spatialSteps,
  temporalSteps: o.temporalSteps,
  temporalFrames: o.sampling === "dense" ? cfg.frames : sparseFrames,
  sampleSteps,
  frames: cfg.frames,
});

/**
 * Milliseconds per training step this runner has measured, by stage and frames per step. A stage's
 * time per step cannot be derived from another's: on the 2-core CPU a 16-frame temporal step took
 * 5.3× a 1-frame spatial step where its multiply-accumulates are 20× (fixed per-step costs dominate
 * at this size), so an estimate scaled by work was 4.5× too long. Later jobs use what earlier ones measured:
 * a runner's second tune (100 + 100 dense steps, ONNX CPU) was estimated within 6% from its second step on.
 */
export class StepTimes {
  private readonly ms = new Map<string, number>();
  get = (stage: string, frames: number) => this.ms.get(`${stage}:${frames}`);
  set = (stage: string, frames: number, ms: number) => void this.ms.set(`${stage}:${frames}`, ms);
}

export type ClockStage = "heads" | "spatial" | "temporal" | "sample";
const TIMED = ["spatial", "temporal", "sample"] as const;
type Timed = (typeof TIMED)[number];

/**
 * A step's cost relative to a 1-frame spatial step, used only to weight the bar before a stage has
 * been timed: the 2-core CPU's 5.3× for a 16-frame temporal step, linear in frames between; a
 * sampling step is a forward pass (guided: two), about half a training step's forward + backward.
 */
function priorCost(stage: Timed, frames: number): number {
  const temporal = 1 + (4.3 * (frames - 1)) / 15;
  return stage === "spatial" ? 1 : stage === "temporal" ? temporal : 0.5 * temporal;
}

export interface ClockReading {
  /** 0–1 over the whole job: the share of its estimated time spent, never lower than before. */
  progress: number;
  /** Seconds left in the whole job, or null while a training stage's step time is unknown (no estimate rather than a wrong one). */
  etaSeconds: number | null;
}

/**
 * One tune's progress and time left, both from its plan and step times: the bar is the share of the
 * job's estimated time spent (elapsed ÷ (elapsed + left)), so its speed matches the clock instead of
 * fixed shares per stage (a 13 s spatial stage once filled 22% of a 10-minute bar), and never goes
 * back (a later estimate that grows holds the bar until time catches up). The time left is the
 * current stage's measured rate (from its first reported step on, so the first step's warm-up is
 * left out) plus the stages after it at the rates this runner measured before. The transfer sample,
 * ~1% of a tune, may be costed from the temporal rate before it is timed; training stages may not.
 */
export class TuneClock {
  private stage: ClockStage | "" = "";
  private start = { at: 0, step: 0 };
  private readonly began: number;
  private shown = 0;

  constructor(
    private readonly plan: TunePlan,
    private readonly times: StepTimes,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.began = now();
  }

  private framesOf(stage: Timed) {
    return stage === "spatial" ? 1 : stage === "temporal" ? this.plan.temporalFrames : this.plan.frames;
  }

  private stepsOf(stage: Timed) {
    return stage === "spatial" ? this.plan.spatialSteps : stage === "temporal" ? this.plan.temporalSteps : this.plan.sampleSteps;
  }

  /** ms per step of `stage`: measured (here or before), else scaled from a measured stage by priorCost; `measured` says which. */
  private rate(stage: Timed): { ms: number; measured: boolean } | null {
    const ms = this.times.get(stage, this.framesOf(stage));
    if (ms !== undefined) return { ms, measured: true };
    for (const k of ["temporal", "spatial", "sample"] as const) {
      const known = this.times.get(k, this.framesOf(k));
      if (known !== undefined) return { ms: (known * priorCost(stage, this.framesOf(stage))) / priorCost(k, this.framesOf(k)), measured: false };
    }
    return null;
  }

  /** The reading after a report of `step` of `steps` in `stage` (step 0: the stage began). */
  update(stage: ClockStage, step: number, steps: number): ClockReading {
    const t = this.now();
    // Timing starts at a stage's first step, whether or not its start (step 0) was reported: the warm-up is left out.
    if (stage !== this.stage || (this.start.step === 0 && step > 0)) [this.stage, this.start] = [stage, { at: t, step }];
    if (stage !== "heads" && step > this.start.step) this.times.set(stage, this.framesOf(stage), (t - this.start.at) / (step - this.start.step));
    const from = stage === "heads" ? 0 : TIMED.indexOf(stage);
    let left = 0;
    let known = stage !== "heads";
    for (const s of TIMED.slice(from)) {
      const n = s === stage ? steps - step : this.stepsOf(s);
      if (n <= 0) continue;
      const r = this.rate(s);
      if (!r) return { progress: this.shown, etaSeconds: null };
      left += n * r.ms;
      if (!r.measured && s !== "sample") known = false;
    }
    const elapsed = t - this.began;
    if (elapsed + left > 0) this.shown = Math.max(this.shown, Math.min(0.99, Math.floor((1000 * elapsed) / (elapsed + left)) / 1000));
    return { progress: this.shown, etaSeconds: known ? left / 1000 : null };
  }

  /** The bar as it stands (for the upload after the last step: the time left is the upload's, not estimated). */
  get progress() {
    return this.shown;
  }
}
