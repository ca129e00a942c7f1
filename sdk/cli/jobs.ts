import { writeFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { MotionLoraError } from "../client/errors.ts";
import { nextProgress, startProgress, type JobProgress } from "../client/client.ts";
import { FIDELITY_SCALE, MotionCategory, RecipeName, TuneOptions, type Job, type JobEvent } from "../schema/index.ts";
import { category, client } from "./catalog.ts";
import { args, intFlag, out, printError, UsageError, type Command } from "./command.ts";
import { progressBar, queueLine } from "./progress.ts";
import { describeFit, type FitOptions, fitReport } from "../video/fit.ts";
import { fitClip, MODEL_CLIP } from "../video/frames.ts";

/** `owner/name[@version][:weight[:until]]` → a generate LoRA entry (until: the share of steps it applies for). */
function loraArg(s: string): { ref: string; weight: number; until?: number } {
  const m = /^([^:]+)(?::(-?[0-9.]+)(?::([0-9.]+))?)?$/.exec(s);
  if (!m) throw new UsageError(`--lora '${s}' must be OWNER/NAME[@VERSION][:WEIGHT[:UNTIL]]`);
  const weight = m[2] === undefined ? 1 : Number(m[2]);
  if (!Number.isFinite(weight)) throw new UsageError(`--lora '${s}': the weight must be a number`);
  if (m[3] === undefined) return { ref: m[1]!, weight };
  const until = Number(m[3]);
  if (!(until > 0 && until <= 1)) throw new UsageError(`--lora '${s}': UNTIL is the share of steps the LoRA applies for, in (0, 1]`);
  return { ref: m[1]!, weight, until };
}

/** --fit, --start and --duration: how the clip becomes the model's (sdk/video/fit.ts). */
function fitFlags(v: { fit?: string | undefined; start?: string | undefined; duration?: string | undefined }): FitOptions {
  if (v.fit !== undefined && v.fit !== "crop" && v.fit !== "pad") throw new UsageError(`--fit must be crop or pad, got '${v.fit}'`);
  const seconds = (name: string, s: string | undefined, positive: boolean) => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isFinite(n) || (positive ? n <= 0 : n < 0)) throw new UsageError(`--${name} must be seconds ${positive ? "above 0" : "from 0"}; got '${s}'`);
    return n;
  };
  const start = seconds("start", v.start, false);
  const duration = seconds("duration", v.duration, true);
  return { ...(v.fit && { fit: v.fit }), ...(start !== undefined && { start }), ...(duration !== undefined && { duration }) };
}

/** Refuses an output path that could not be written before any upload or job: a wrong format is a usage error. */
async function outputOk(check: (path: string) => Promise<void>, path: string, flag = "-o") {
  try {
    await check(path);
  } catch (e) {
    if (e instanceof MotionLoraError && e.code === "unsupported_format") throw new UsageError(`${flag} ${path}: ${e.message}`);
    throw e;
  }
}

/** Ctrl-C aborts the running job (the SDK cancels it on the registry) instead of leaving it behind. */
function interrupt(): AbortSignal {
  const ctl = new AbortController();
  process.once("SIGINT", () => ctl.abort(new MotionLoraError("interrupted; the job was canceled", "interrupted")));
  return ctl.signal;
}

/** A clip blob (a GIF the runner made) written to `path` in the format its extension names. */
async function saveClip(c: Awaited<ReturnType<typeof client>>, sha256: string, path: string) {
  const bytes = await c.blobs.download(sha256);
  if (extname(path).toLowerCase() === ".gif") return writeFile(path, bytes);
  const { readFrames, writeVideoFile } = await import("../node.ts");
  // The runner's GIFs are already scaled up for viewing: keep their size.
  await writeVideoFile(path, await readFrames(bytes), { scale: 1 });
}

/** Reads CLIP, turning a file that is not a clip into a usage error (exit 2) that says what is accepted. */
async function readClip(path: string, fit: FitOptions = {}) {
  const { readVideoFile } = await import("../node.ts");
  try {
    return await readVideoFile(path, fit);
  } catch (e) {
    if (e instanceof MotionLoraError && (e.code === "invalid_video" || e.code === "ffmpeg_failed")) {
      const why = e.code === "ffmpeg_failed" ? "ffmpeg cannot decode it" : e.message.split(":")[0];
      throw new UsageError(`cannot read ${path} as a clip (${why}); CLIP must be ${CLIP_KINDS}`);
    }
    throw e;
  }
}

const CLIP_KINDS = "an animated GIF, a clip PNG (frames side by side), a folder of PNG frames, or MP4/WebM (needs ffmpeg)";

const tune: Command = {
  name: "tune",
  usage: `  motion-lora tune CLIP --prompt "caption of the clip" --lora OWNER/NAME [--title T --category C]
                   [--recipe NAME] [--spatial-steps N] [--temporal-steps N] [--sampling dense|strided|random] [--seed N]
                   [--sample-steps N] [-o sample.gif] [--reference-out reference.gif]
                   [--fit crop|pad] [--start SECONDS] [--duration SECONDS] [--dry-run]`,
  help: `Tunes a motion LoRA on CLIP and publishes it as the next version of OWNER/NAME. Before any upload it
prints what the model will see: the clip's size, fps and length, the crop or pad, the frames kept, and
a warning when much is lost.
  CLIP                   ${CLIP_KINDS}; fitted to the model's 16 frames of 32×32
  --prompt TEXT          the caption of CLIP in the model's grammar (motion-lora vocab)
  --lora OWNER/NAME      the LoRA that receives the new version
  --title T              the title when the LoRA is created (default: NAME)
  --category C           its category when created: ${MotionCategory.options.join(", ")} (default single-object)
  --recipe NAME          ${RecipeName.options.join(", ")} (default: default, which carries the most
                         motion; fym-sparse is ~8× faster and weaker)
  --spatial-steps N      steps of the spatial (appearance) stage, overriding the recipe
  --temporal-steps N     steps of the motion stage, overriding the recipe
  --sampling S           frames per motion step: dense (every frame), strided or random (sparse)
  --seed N               the tuning seed
  --sample-steps N       sampling steps of the sample on a new prompt made after tuning (default 20; 0: none)
  -o, --output FILE      saves that sample: the LoRA's motion on a new prompt (.gif, .png, .mp4, .webm)
  --reference-out FILE   saves what the model saw: the reference fitted to 16 frames of 32×32
  --fit crop|pad         crop to the centre square (default) or pad the whole picture with its border colour
  --start SECONDS        where the clip's span starts (default 0)
  --duration SECONDS     how long the span is (default: to the end)
  --dry-run              prints what the model would see and stops`,
  async run(argv) {
    const { values, positionals } = args(argv, {
      prompt: { type: "string" },
      lora: { type: "string" },
      title: { type: "string" },
      category: { type: "string" },
      "spatial-steps": { type: "string" },
      "temporal-steps": { type: "string" },
      recipe: { type: "string" },
      sampling: { type: "string" },
      seed: { type: "string" },
      "sample-steps": { type: "string" },
      output: { type: "string", short: "o" },
      "reference-out": { type: "string" },
      fit: { type: "string" },
      start: { type: "string" },
      duration: { type: "string" },
      "dry-run": { type: "boolean" },
    });
    const fit = fitFlags(values);
    const sampling = values.sampling === undefined ? undefined : TuneOptions.shape.sampling.safeParse(values.sampling);
    if (sampling && !sampling.success) throw new UsageError(`--sampling must be dense, strided or random, got '${values.sampling}'`);
    const recipe = values.recipe === undefined ? undefined : RecipeName.safeParse(values.recipe);
    if (recipe && !recipe.success) throw new UsageError(`--recipe must be one of ${RecipeName.options.join(", ")}; got '${values.recipe}'`);
    const clipPath = positionals[0];
    if (clipPath && values["dry-run"]) {
      console.log(describeFit(fitReport(await readClip(clipPath, fit), MODEL_CLIP, fit)));
      return 0;
    }
    if (!clipPath || !values.prompt || !values.lora) throw new UsageError("tune needs CLIP, --prompt and --lora OWNER/NAME");
    const sampleSteps = intFlag("sample-steps", values["sample-steps"]);
    if (sampleSteps === 0 && values.output) throw new UsageError("-o saves the sample on a new prompt, which --sample-steps 0 leaves out");
    const options = {
      ...(values["spatial-steps"] && { spatial_steps: intFlag("spatial-steps", values["spatial-steps"]) }),
      ...(values["temporal-steps"] && { temporal_steps: intFlag("temporal-steps", values["temporal-steps"]) }),
      ...(sampling?.data && { sampling: sampling.data }),
      ...(values.seed && { seed: intFlag("seed", values.seed) }),
      ...(sampleSteps !== undefined && { sample_steps: sampleSteps }),
    };
    const cat = category(values.category);
    const { checkVideoOutput, writeVideoFile } = await import("../node.ts");
    for (const [flag, path] of [
      ["-o", values.output],
      ["--reference-out", values["reference-out"]],
    ] as const)
      if (path) await outputOk(checkVideoOutput, path, flag);
    const video = await readClip(clipPath, fit);
    const c = await client(values);
    const bar = progressBar(`tune ${basename(clipPath)}`, process.stderr, c.http.baseUrl);
    const v = await c
      .tune({
        video,
        prompt: values.prompt,
        lora: values.lora,
        ...(recipe?.data && { recipe: recipe.data }),
        options,
        create: { title: values.title ?? values.lora.split("/")[1]!, category: cat ?? "single-object" },
        ...fit,
        // What the model will see, on stderr before the upload (stdout stays the result, --json included).
        onFit: (report) => console.error(describeFit(report)),
        onProgress: (p) => bar.update(p),
        signal: interrupt(),
      })
      .finally(() => bar.done());
    const published = `published ${v.owner}/${v.name}@${v.version}: generate with --lora ${v.owner}/${v.name}@${v.version}`;
    const reference = values["reference-out"];
    if (reference && v.preview_sha256) await saveClip(c, v.preview_sha256, reference);
    else if (reference) await writeVideoFile(reference, fitClip(video, MODEL_CLIP, fit));
    const sample = v.samples[0];
    if (values.output && !sample) {
      out(values.json, v, published);
      printError(
        `the runner made no sample on a new prompt to save as ${values.output} (its caption could not be varied); make one with motion-lora generate --lora ${v.owner}/${v.name}@${v.version}`,
      );
      return 1;
    }
    if (values.output && sample) await saveClip(c, sample.preview_sha256, values.output);
    // Where its motion carried: each sample's score, so a user sees which prompts it works for.
    const scored = v.samples.filter((x) => x.motion_fidelity !== null);
    const scores = v.transfer
      ? [
          `transfer score ${v.transfer.motion_fidelity.toFixed(2)}: mean motion fidelity of its ${v.transfer.n} samples to the reference (${FIDELITY_SCALE})`,
          ...scored.map((x) => `  ${x.motion_fidelity!.toFixed(2)}  "${x.prompt}"`),
        ]
      : [];
    const saved = [
      ...scores,
      ...(values.output && sample ? [`sample "${sample.prompt}" → ${values.output}`] : []),
      ...(reference ? [`what the model saw → ${reference}`] : []),
    ];
    out(values.json, v, [published, ...saved].join("\n"));
    return 0;
  },
};

const generate: Command = {
  name: "generate",
  usage: `  motion-lora generate --prompt "new prompt" [--lora OWNER/NAME[@VERSION][:WEIGHT[:UNTIL]] ...] -o out.gif
                   [--steps N] [--guidance G] [--seed N]`,
  help: `Generates a clip for a new prompt, moved by the motion LoRAs given, and saves it.
  --prompt TEXT          what the clip shows, in the model's grammar (motion-lora vocab)
  --lora REF             OWNER/NAME[@VERSION][:WEIGHT[:UNTIL]], repeatable: the LoRA (latest version
                         unless @VERSION), its weight (default 1) and the share of sampling steps from
                         noise it applies for (default: its recipe's recommendation)
  -o, --output FILE      where the clip goes: .gif, .png (lossless clip PNG), .mp4 or .webm (need ffmpeg)
  --steps N              sampling steps
  --guidance G           classifier-free guidance scale
  --seed N               the sampling seed`,
  async run(argv) {
    const { values } = args(
      argv,
      {
        prompt: { type: "string" },
        lora: { type: "string", multiple: true },
        output: { type: "string", short: "o" },
        steps: { type: "string" },
        guidance: { type: "string" },
        seed: { type: "string" },
      },
      false,
    );
    if (!values.prompt || !values.output) throw new UsageError("generate needs --prompt and -o OUT.gif|.png|.mp4");
    const guidance = values.guidance === undefined ? undefined : Number(values.guidance);
    if (guidance !== undefined && !Number.isFinite(guidance)) throw new UsageError("--guidance must be a number");
    const options = {
      ...(values.steps && { steps: intFlag("steps", values.steps) }),
      ...(guidance !== undefined && { guidance }),
      ...(values.seed && { seed: intFlag("seed", values.seed) }),
    };
    const loras = (values.lora ?? []).map(loraArg);
    const { checkVideoOutput, writeVideoFile } = await import("../node.ts");
    await outputOk(checkVideoOutput, values.output);
    const c = await client(values);
    const bar = progressBar("generate", process.stderr, c.http.baseUrl);
    const r = await c.generate({ prompt: values.prompt, loras, options, onProgress: (p) => bar.update(p), signal: interrupt() }).finally(() => bar.done());
    await writeVideoFile(values.output, r.frames);
    out(
      values.json,
      { job: r.job, path: values.output },
      `wrote ${values.output} (${r.frames.count} frames of ${r.frames.width}×${r.frames.height}; job ${r.job.id})`,
    );
    return 0;
  },
};

const jobs: Command = {
  name: "jobs",
  usage: "  motion-lora jobs [list] [--status S] [--limit N] | jobs show ID | jobs cancel ID | jobs watch ID",
  help: `Lists and follows your jobs.
  list                   the newest jobs first (the default)
  --status S             only jobs in status S: queued, running, succeeded, failed, canceled
  --limit N              at most N jobs (default 20)
  show ID                one job as JSON
  cancel ID              cancels a queued or running job
  watch ID               follows a job with a progress bar until it ends`,
  async run(argv) {
    const [first, ...rest] = argv;
    const named = first !== undefined && !first.startsWith("-");
    const sub = named ? first : "list";
    const { values, positionals } = args(named ? rest : argv, { status: { type: "string" }, limit: { type: "string" } });
    const c = await client(values);
    if (sub === "list") {
      const limit = intFlag("limit", values.limit) ?? 20;
      const list: Job[] = [];
      for await (const j of c.jobs.list(values.status ? { status: values.status as "queued" } : {})) {
        list.push(j);
        if (list.length >= limit) break;
      }
      const line = (j: Job) =>
        `${j.id}  ${j.kind.padEnd(8)} ${j.status.padEnd(9)} ${(j.progress * 100).toFixed(0).padStart(3)}%  ${j.created_at}${j.error ? `  ${j.error.code}: ${j.error.message}` : ""}${j.queue ? `  ${queueLine(j.queue)}` : ""}`;
      out(values.json, list, list.map(line).join("\n") || "no jobs");
      return 0;
    }
    const id = positionals[0];
    if (!id) throw new UsageError(`jobs ${sub} needs a job id`);
    if (sub === "show") {
      const j = await c.jobs.get(id);
      out(values.json, j, JSON.stringify(j, null, 2));
      return 0;
    }
    if (sub === "cancel") {
      const j = await c.jobs.cancel(id);
      out(values.json, j, `job ${j.id} is ${j.status}`);
      return 0;
    }
    if (sub === "watch") {
      const bar = progressBar(id, process.stderr, c.http.baseUrl);
      const first = await c.jobs.get(id);
      let state: JobProgress = startProgress(first);
      bar.update(state);
      const onEvent = (e: JobEvent) => {
        state = nextProgress(state, e);
        bar.update(state);
      };
      const j = await c.jobs.wait(id, { cancelOnAbort: false, onEvent }).finally(() => bar.done());
      out(values.json, j, `job ${j.id} ${j.status}`);
      return 0;
    }
    throw new UsageError(`unknown jobs command '${sub}'`);
  },
};

/** The job commands: tune a motion LoRA on a clip, generate with LoRAs, follow jobs. */
export const jobCommands: Command[] = [tune, generate, jobs];
