import type { ModelConfig } from "../engine/config.ts";
import type { TuneOptions } from "../fym/options.ts";
import type { Progress } from "../fym/tune.ts";

/** What a tune will run: the steps of each stage and the frames a temporal step trains on. */
export interface TunePlan {
  spatialSteps: number;
  temporalSteps: number;
  temporalFrames: number;
}

/** The plan of resolved tune options: dense sampling trains on every frame, sparse on the engine's few. */
export const tunePlan = (o: TuneOptions, cfg: ModelConfig, sparseFrames: number): TunePlan => ({
  spatialSteps: o.spatialSteps,
  temporalSteps: o.temporalSteps,
  temporalFrames: o.sampling === "dense" ? cfg.frames : sparseFrames,
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

/**
 * Whole-job seconds left for one tune, from its progress reports: the current stage's measured rate
 * (from its first reported step on, so the first step's warm-up is left out) plus the stages after
 * it at the rates this runner measured before. Null while any of those is unknown: no estimate rather
 * than a wrong one.
 */
export class TuneEta {
  private stage = "";
  private start = { at: 0, step: 0 };

  constructor(
    private readonly plan: TunePlan,
    private readonly times: StepTimes,
    private readonly now: () => number = () => performance.now(),
  ) {}

  update(p: Progress): number | null {
    if (p.stage === "heads") return null;
    const frames = p.stage === "spatial" ? 1 : this.plan.temporalFrames;
    const t = this.now();
    if (p.stage !== this.stage) [this.stage, this.start] = [p.stage, { at: t, step: p.step }];
    if (p.step > this.start.step) this.times.set(p.stage, frames, (t - this.start.at) / (p.step - this.start.step));
    const rate = this.times.get(p.stage, frames);
    if (rate === undefined) return null;
    let ms = (p.steps - p.step) * rate;
    if (p.stage === "spatial") {
      const temporal = this.times.get("temporal", this.plan.temporalFrames);
      if (temporal === undefined) return null;
      ms += this.plan.temporalSteps * temporal;
    }
    return ms / 1000;
  }
}
