import { selectFrames } from "../core/clip.ts";
import type { Engine, SharedOptim, Trainer, TrainerJob, TrainerStep, TrainGraph } from "../engine/engine.ts";
import { AdamW } from "../lora/adamw.ts";
import { seededNormals } from "./noise.ts";

export const DEFAULT_OPTIM: SharedOptim = { weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8, clipNorm: 1 };

/**
 * The trainer every engine has: each LoRA keeps its weights and AdamW here, and a step is one
 * `trainStep` call per LoRA. The step's noise is drawn from its seed, so a LoRA's result does not
 * depend on the others'.
 */
class LoopTrainer implements Trainer {
  private readonly loras: { A: Float32Array; B: Float32Array; opt: AdamW }[];

  constructor(
    private readonly engine: Engine,
    private readonly graph: TrainGraph,
    private readonly jobs: TrainerJob[],
    optim: SharedOptim,
  ) {
    // The engine's graphs take one sample a step; several samples a step are for engines that batch (tune.ts refuses them sooner).
    const many = jobs.find((j) => (j.samples ?? 1) !== 1);
    if (many) throw new RangeError(`the ${engine.name} engine trains one sample a step per LoRA; got samples ${many.samples}`);
    this.loras = jobs.map((j) => {
      const A = Float32Array.from(j.init.A);
      const B = Float32Array.from(j.init.B);
      const opt = new AdamW(
        [A, B],
        { lr: j.lr, warmupSteps: j.warmupSteps, weightDecay: optim.weightDecay, betas: optim.betas, eps: optim.eps, clipNorm: optim.clipNorm },
        [j.masks.A, j.masks.B],
      );
      return { A, B, opt };
    });
  }

  get size() {
    return this.jobs.length;
  }

  async step(steps: TrainerStep[]) {
    const out: { loss: number; terms: [number, number] }[] = [];
    for (const [i, s] of steps.entries()) {
      const job = this.jobs[i]!;
      const lora = this.loras[i]!;
      const x0 = selectFrames(job.clip, s.frames).data;
      const caption = job.texts?.[s.variant ?? 0] ?? { text: job.text, mask: job.textMask };
      const gain = s.frozenGain ?? 1;
      const r = await this.engine.trainStep(this.graph, {
        x0,
        noise: seededNormals(s.seed, x0.length),
        t: s.t,
        text: caption.text,
        textMask: caption.mask,
        framePos: s.framePos,
        frozen: gain === 1 ? job.frozen : { ...job.frozen, scale: job.frozen.scale * gain },
        lora: { A: lora.A, B: lora.B, scale: job.scale },
        lossWeights: job.lossWeights,
      });
      lora.opt.update([r.gradA, r.gradB]);
      out.push({ loss: r.loss, terms: r.terms });
    }
    return out;
  }

  async weights() {
    return this.loras.map(({ A, B }) => ({ A, B }));
  }

  async close() {}
}

/** N LoRAs to train together: on the engine's device when it batches, else in a loop here. */
export async function openTrainer(engine: Engine, graph: TrainGraph, frames: number, jobs: TrainerJob[], optim = DEFAULT_OPTIM): Promise<Trainer> {
  return engine.createTrainer ? engine.createTrainer(graph, frames, jobs, optim) : new LoopTrainer(engine, graph, jobs, optim);
}
