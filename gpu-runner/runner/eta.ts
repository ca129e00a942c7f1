import type { ModelConfig } from "../engine/config.ts";
import { trainStepMacs } from "../engine/flops.ts";
import type { Progress, TuneOptions } from "../fym/tune.ts";

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
 * Whole-job seconds left for a tune: the current stage's measured time per step (its ETA), carried to
 * the stages after it by their multiply-accumulate counts. A stage's own ETA alone would promise a
 * minute while the spatial stage runs and then show the temporal stage's ten; null until a step was timed.
 */
export function tuneEtaSeconds(p: Progress, plan: TunePlan, cfg: ModelConfig): number | null {
  if (p.etaMs === null || p.stage === "heads") return null;
  const left = p.steps - p.step;
  const stageMacs = trainStepMacs(cfg, p.stage === "spatial" ? 1 : plan.temporalFrames);
  // The last step of a stage has nothing left to time: its ETA is 0, and the rate is unknown.
  if (left === 0 && p.stage === "spatial") return null;
  const msPerMac = left > 0 ? p.etaMs / left / stageMacs : 0;
  const after = p.stage === "spatial" ? plan.temporalSteps * trainStepMacs(cfg, plan.temporalFrames) : 0;
  return (p.etaMs + after * msPerMac) / 1000;
}
