import type { MotionLora } from "../../sdk/client/client.ts";
import {
  GenerateInput,
  TuneInput,
  type BlobInfo,
  type GenerateResult,
  type Grammar,
  type Job,
  type JobInputErrorCode,
  type MotionCategory,
  type TuneResult,
} from "../../sdk/schema/index.ts";
import type * as z from "zod";
import { decodeClipPng, encodeClipPng } from "../../sdk/video/frames.ts";
import { encodeGif } from "../../sdk/video/gif.ts";
import { encodePng } from "../../sdk/video/png.ts";
import { headHeatmap } from "../fym/heatmap.ts";
import { type Clip, clipFromRgb, clipToFrames } from "../core/clip.ts";
import type { Engine } from "../engine/engine.ts";
import { generateMany, type GenerateOptions } from "../fym/sampler.ts";
import type { TuneOptions } from "../fym/options.ts";
import { defaultBenchmarkOf, defaultTuneFor, recipe as recipeByName, recipeName } from "../fym/recipes.ts";
import { tune, tuneMany, type Progress, type TuneJob, type TuneResult as Tuned } from "../fym/tune.ts";
import { decodeLora, encodeLora } from "../lora/file.ts";
import type { LoraWeights } from "../lora/tensors.ts";
import { RunnerError } from "../core/errors.ts";
import type { BlobCache } from "./cache.ts";
import { StepTimes, TuneClock, tunePlan } from "./eta.ts";
import { loadGrammar, transferPrompts } from "./sample-prompt.ts";
import { DEFAULT_SAMPLES, captionCategory, transferSamples } from "./transfer-samples.ts";
import { Batcher, type BatcherOptions } from "./batcher.ts";

/** A job the runner cannot do, whatever it retries (its input is the problem): the message goes to the user. */
export class JobInputError extends RunnerError {
  override name = "JobInputError";
  constructor(code: JobInputErrorCode, message: string) {
    super(code, message, true);
  }
}

export interface Report {
  progress: number;
  stage: string;
  message?: string;
  /** Seconds left in the whole job, as the runner estimates them. */
  etaSeconds?: number;
}

export interface ExecuteContext {
  signal: AbortSignal;
  report: (r: Report) => void;
}

/** A result's `blobs` list: each upload with the kind the registry stored it as, so no kind is left to be guessed. */
const declare = (...uploads: BlobInfo[]) => uploads.map(({ sha256, kind }) => ({ sha256, kind }));

/**
 * The share of sampling steps a LoRA asks to be applied for: its recipe's `applyUntil`, stamped in
 * its tuning config (RESULTS-motionbench-torch-h100.md measures the recipes that set it); 1 for a
 * LoRA that names none.
 */
export function recommendedUntil(tuning: Record<string, unknown> | undefined): number {
  const u = tuning?.applyUntil;
  return typeof u === "number" && u > 0 && u <= 1 ? u : 1;
}

/**
 * A tune job's recipe and options as the method's options. A named recipe other than the default is
 * the whole option set; the default is left to the engine's form of it (defaultTuneFor).
 */
export function tuneOptionsOf(o: TuneInput["options"], recipe?: TuneInput["recipe"]): Partial<TuneOptions> {
  // sparse_frames alone asks for sparse steps (the schema refuses it beside sampling "dense").
  const sampling = o.sampling ?? (o.sparse_frames !== undefined ? "strided" : undefined);
  return {
    ...(recipe !== undefined && recipe !== "default" ? recipeByName(recipe).options : {}),
    ...(o.spatial_steps !== undefined && { spatialSteps: o.spatial_steps }),
    ...(o.temporal_steps !== undefined && { temporalSteps: o.temporal_steps }),
    ...(sampling !== undefined && { sampling }),
    ...(o.rank !== undefined && { rank: o.rank }),
    ...(o.learning_rate !== undefined && { lr: o.learning_rate }),
    ...(o.motion_loss_weight !== undefined && { motionLossWeight: o.motion_loss_weight }),
    ...(o.seed !== undefined && { seed: o.seed }),
  };
}

/** How a runner batches the jobs its slots start together (`onBatch` is told which kind). */
export interface BatchingOptions extends Omit<BatcherOptions, "onBatch"> {
  onBatch?: (kind: "tune" | "generate", size: number) => void;
}

/** Sampling steps of a tune's transfer samples: the generation default. */
const SAMPLE_STEPS = 20;

/** Runs jobs on an engine: inputs from the cache, results uploaded as blobs, the result body returned. */
export class Executor {
  /** Step times measured by this runner's tunes: a tune's ETA covers the stages it has not reached yet. */
  private readonly stepTimes = new StepTimes();
  private grammar: Promise<Grammar | null> | undefined;

  /** Tunes started within a short window train as one batch, on engines with a batched trainer. */
  private readonly tunes: Batcher<TuneJob, Tuned> | null;
  /**
   * Generations (a tune's transfer sample too) started within the window sample as one batch, on
   * engines with a batched denoiser; ONNX's graphs take one generation a call, so it keeps one a slot.
   */
  private readonly generations: Batcher<GenerateOptions, Clip> | null;

  constructor(
    readonly engine: Engine,
    private readonly client: MotionLora,
    private readonly cache: BlobCache,
    batching?: BatchingOptions,
    /** Transfer samples made after each tune (0: none). */
    private readonly samples = DEFAULT_SAMPLES,
  ) {
    const options = (kind: "tune" | "generate"): BatcherOptions => ({ ...batching!, onBatch: (size) => batching!.onBatch?.(kind, size) });
    this.tunes = batching && engine.createTrainer ? new Batcher((jobs) => tuneMany(engine, jobs), options("tune")) : null;
    this.generations = batching && engine.denoiseMany ? new Batcher((list) => generateMany(engine, list), options("generate")) : null;
  }

  /** Generations: each joins the batch where the engine batches, else they run one after another. */
  private sampleMany(list: GenerateOptions[]): Promise<Clip>[] {
    return this.generations ? list.map((o) => this.generations!.submit(o)) : generateMany(this.engine, list);
  }

  async run(job: Job, ctx: ExecuteContext): Promise<z.input<typeof TuneResult> | z.input<typeof GenerateResult>> {
    if (job.kind === "tune") return this.tune(job, ctx);
    return this.generate(job, ctx);
  }

  private async tune(job: Job, ctx: ExecuteContext) {
    const input = TuneInput.parse(job.input);
    const o = input.options;
    if (o.sparse_frames !== undefined && o.sparse_frames !== this.engine.sparseFrames) {
      throw new JobInputError(
        "unsupported_option",
        `options.sparse_frames: this model's sparse training graph takes ${this.engine.sparseFrames} frames; leave it out or set ${this.engine.sparseFrames}`,
      );
    }
    const cfg = this.engine.config;
    if (o.rank !== undefined && o.rank > cfg.lora_rank)
      throw new JobInputError("unsupported_option", `options.rank: this model's LoRA slots hold rank ≤ ${cfg.lora_rank}; got ${o.rank}`);
    // The model's shape goes to the decoder, which refuses any other size before inflating a byte:
    // a hostile PNG costs this runner one clip's memory, not its lease.
    const bytes = await this.cache.get(input.video_sha256, ctx.signal);
    const frames = await decodeClipPng(bytes, { frames: cfg.frames, size: cfg.size }).catch((e: Error) => {
      throw new JobInputError("invalid_video", `video_sha256: ${e.message}`);
    });
    const clip = clipFromRgb(frames.rgb, frames.count, frames.width);
    const partial = tuneOptionsOf(o, input.recipe);
    // The samples' prompts are known before any step, so the plan (and the bar) counts their steps.
    const stepsPerSample = o.sample_steps ?? SAMPLE_STEPS;
    const samplePrompts = await this.samplePrompts(input.prompt, stepsPerSample);
    const plan = tunePlan({ ...defaultTuneFor(this.engine, partial), ...partial }, cfg, this.engine.sparseFrames, samplePrompts.length * stepsPerSample);
    const clock = new TuneClock(plan, this.stepTimes);
    const onProgress = (p: Progress) => {
      const { progress, etaSeconds } = clock.update(p.stage, p.step, p.steps);
      ctx.report({
        progress,
        stage: p.stage,
        ...(etaSeconds !== null && { etaSeconds }),
        // The one ETA is the whole job's (etaSeconds); the line says where the work is.
        ...(p.loss !== null && { message: `${p.stage} ${p.step}/${p.steps} loss ${p.loss.toFixed(4)}` }),
      });
    };
    const r = this.tunes
      ? await this.tunes.submit({ clip, caption: input.prompt, options: partial, onProgress, signal: ctx.signal })
      : await tune(this.engine, clip, input.prompt, partial, { onProgress, signal: ctx.signal });
    const recipe = recipeName(r.options);
    const tuning = {
      ...r.options,
      engine: r.engine,
      reference_sha256: input.video_sha256,
      caption: input.prompt,
      head_margin: r.heads.margin,
      head_scores: r.heads.scores,
      spatial_ms: Math.round(r.spatial.ms),
      temporal_ms: Math.round(r.temporal.ms),
      job_id: job.id,
      recipe,
      ...(recipe === "default" && { benchmark: defaultBenchmarkOf(r.options) }),
    };
    const motion = encodeLora(cfg, r.temporal.lora, this.engine.base, { stage: "temporal", heads: r.heads.temporal, tuning });
    const spatial = encodeLora(cfg, r.spatial.lora, this.engine.base, { stage: "spatial", heads: r.heads.spatial, tuning });
    const opts = { signal: ctx.signal };
    const heat = headHeatmap(r.heads);
    const samples = await this.transferSamples(
      samplePrompts,
      stepsPerSample,
      { clip, category: input.create?.category ?? captionCategory(input.prompt), lora: r.temporal.lora, tuning },
      clock,
      ctx,
    );
    ctx.report({ progress: clock.progress, stage: "upload" });
    const [m, s, preview, heads, ...sampleGifs] = await Promise.all([
      this.client.blobs.upload(motion, "lora", opts),
      this.client.blobs.upload(spatial, "lora", opts),
      this.client.blobs.upload(encodeGif(frames, { scale: 4 }), "preview", opts),
      this.client.blobs.upload(await encodePng(heat.rgb, heat.width, heat.height), "preview", opts),
      ...samples.map((x) => this.client.blobs.upload(x.gif, "preview", opts)),
    ]);
    const last = (xs: number[]) => xs.slice(-10).reduce((a, b) => a + b, 0) / Math.max(1, Math.min(10, xs.length));
    return {
      lora_sha256: m.sha256,
      spatial_lora_sha256: s.sha256,
      preview_sha256: preview.sha256,
      heads_preview_sha256: heads.sha256,
      ...(samples.length > 0 && {
        samples: samples.map((x, i) => ({ prompt: x.prompt, preview_sha256: sampleGifs[i]!.sha256, motion_fidelity: x.motionFidelity })),
      }),
      blobs: declare(m, s, preview, heads, ...sampleGifs),
      metrics: { spatial_ms: r.spatial.ms, temporal_ms: r.temporal.ms, spatial_loss: last(r.spatial.losses), temporal_loss: last(r.temporal.losses) },
    };
  }

  /** The prompts of a tune's transfer samples: its caption with new appearance; none when the caption is outside the grammar, the model has none, or no sample was asked for. */
  private async samplePrompts(caption: string, steps: number): Promise<string[]> {
    if (steps === 0 || this.samples === 0) return [];
    this.grammar ??= loadGrammar();
    const grammar = await this.grammar;
    return grammar ? transferPrompts(caption, grammar, this.samples) : [];
  }

  /** Clips of the new motion LoRA on new content, scored against the reference, for the version's gallery page: what a user will get, not the reference again. */
  private async transferSamples(
    prompts: string[],
    steps: number,
    tuned: { clip: Clip; category: MotionCategory; lora: LoraWeights; tuning: Record<string, unknown> },
    clock: TuneClock,
    ctx: ExecuteContext,
  ) {
    if (prompts.length === 0) return [];
    const report = (done: number, total: number) => {
      const { progress, etaSeconds } = clock.update("sample", done, total);
      ctx.report({ progress, stage: "sample", ...(etaSeconds !== null && { etaSeconds }) });
    };
    report(0, prompts.length * steps);
    return transferSamples((list) => this.sampleMany(list), {
      reference: tuned.clip,
      category: tuned.category,
      lora: { lora: tuned.lora, weight: 1, until: recommendedUntil(tuned.tuning) },
      prompts,
      steps,
      signal: ctx.signal,
      onStep: report,
    });
  }

  private async generate(job: Job, ctx: ExecuteContext) {
    const input = GenerateInput.parse(job.input);
    const loras = await Promise.all(
      job.resolved_loras.map(async (l) => {
        const bytes = await this.cache.get(l.file_sha256, ctx.signal);
        try {
          const { lora, metadata } = decodeLora(this.engine.config, bytes, this.engine.base);
          return { lora, weight: l.weight, until: l.until ?? recommendedUntil(metadata.tuning_config) };
        } catch (e) {
          throw new JobInputError("invalid_lora", `${l.ref}: ${(e as Error).message}`);
        }
      }),
    );
    if (loras.length > this.engine.config.lora_slots)
      throw new JobInputError("too_many_loras", `this model applies at most ${this.engine.config.lora_slots} LoRAs at once; got ${loras.length}`);
    // From the first step, not from joining a batch: the window's wait is no step's time.
    let t0 = performance.now();
    const steps = input.options.steps ?? 20;
    const [sampled] = this.sampleMany([
      {
        prompt: input.prompt,
        loras,
        steps,
        ...(input.options.guidance !== undefined && { guidance: input.options.guidance }),
        ...(input.options.seed !== undefined && { seed: input.options.seed }),
        signal: ctx.signal,
        onStep: (step, n) => {
          if (step === 0) t0 = performance.now();
          const msPerStep = (performance.now() - t0) / Math.max(step, 1);
          ctx.report({ progress: Math.floor((950 * step) / n) / 1000, stage: "sampling", ...(step > 0 && { etaSeconds: (msPerStep * (n - step)) / 1000 }) });
        },
      },
    ]);
    const clip = await sampled!;
    const ms = performance.now() - t0;
    const frames = clipToFrames(clip);
    const opts = { signal: ctx.signal };
    const [video, preview] = await Promise.all([
      this.client.blobs.upload(await encodeClipPng(frames), "video", opts),
      this.client.blobs.upload(encodeGif(frames, { scale: 4 }), "preview", opts),
    ]);
    return { video_sha256: video.sha256, preview_sha256: preview.sha256, blobs: declare(video, preview), metrics: { sampling_ms: ms, steps } };
  }
}
