// MotionBench v4: motion fidelity, text alignment, appearance integrity, temporal consistency and
// appearance leakage of motion transfer, per method, category and ID/OOD motion, with bootstrap
// intervals and paired comparisons (same case, prompt and seed). Tunes are batched (tuneMany) and
// generations too (generateMany), so on the torch engine a whole config trains in one batched run.
// Resumable: each (config, case) is cached under <out>/cache-<tag>/.
//
// Usage: npm run bench:motion -- [--engine onnx|torch] [--configs floor,default,decoupled-dense,naive-two-stage,...]
//   [--recipes '{"name":{...TuneOptions}}'] [--category c] [--cases N] [--ood-only] [--seeds K]
//   [--prompts P] [--batch B] [--tag T] [--out DIR] [--quick]
//   --batch B: at most B rows a batched training step (a LoRA with samplesPerStep k takes k).
//   A config may carry a generation variant: naive-two-stage@recon, default@w1.5, default@g2, naive-aug@early8 (see variant()).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { encodeGif } from "../../../sdk/video/gif.ts";
import { clipToRgb, type Clip } from "../../core/clip.ts";
import { createEngine } from "../../engine/create.ts";
import type { Provider } from "../../engine/providers.ts";
import { generateMany } from "../../fym/sampler.ts";
import type { TuneOptions } from "../../fym/options.ts";
import { BASELINES, DEFAULT_TUNE } from "../../fym/recipes.ts";
import { stageShape, tuneMany } from "../../fym/tune.ts";
import { decodeLora, encodeLora } from "../../lora/file.ts";
import type { LoraWeights } from "../../lora/tensors.ts";
import { motionFidelity, truthTracks } from "../metrics/fidelity.ts";
import { tracksFor } from "../metrics/tracker.ts";
import { CATEGORIES, loadMotionBench } from "./motionbench-cases.ts";
import { writeReport, type Row, type TuneTime } from "./motionbench-report.ts";
import { ScorePool } from "./motionbench-score.ts";

const { values } = parseArgs({
  options: {
    engine: { type: "string", default: "onnx" },
    provider: { type: "string", default: "cpu" },
    configs: { type: "string", default: "floor,default,decoupled-dense,naive-two-stage,fym-sparse" },
    // JSON of named recipes ({"name": {...TuneOptions}}), or the path of a file holding it.
    recipes: { type: "string", default: "{}" },
    // An experiment writes into gpu-runner/evaluation/experiments/<name>/ (refused if it already has results) and keeps its recipes there.
    experiment: { type: "string" },
    category: { type: "string" },
    cases: { type: "string" },
    "ood-only": { type: "boolean", default: false },
    seeds: { type: "string", default: "3" },
    prompts: { type: "string", default: "3" },
    steps: { type: "string", default: "20" },
    batch: { type: "string", default: "48" },
    "gen-batch": { type: "string", default: "48" },
    tag: { type: "string" },
    out: { type: "string", default: "gpu-runner/evaluation/results" },
    quick: { type: "boolean", default: false },
    tf32: { type: "boolean", default: false },
    "no-report": { type: "boolean", default: false },
    // Rebuilds the report from a cache (rows and tune times) without an engine: for a run cut off by its time limit.
    "report-only": { type: "boolean", default: false },
    "engine-label": { type: "string" },
  },
});

const quick = values.quick!;
// --quick is the CI smoke run: one OOD case per category, tiny budgets, the whole pipeline and report.
const defined = JSON.parse(values.recipes!.trimStart().startsWith("{") ? values.recipes! : await readFile(values.recipes!, "utf8"));
const recipes: Record<string, Partial<TuneOptions>> = { ...BASELINES, ...(defined as Record<string, Partial<TuneOptions>>) };
const experimentDir = values.experiment ? join("gpu-runner/evaluation/experiments", values.experiment) : undefined;
if (experimentDir && existsSync(join(experimentDir, "RESULTS.md")) && !values["report-only"])
  throw new Error(`${experimentDir} already holds results: an experiment is never overwritten, name a new one`);
const configs = (quick ? "floor,default" : values.configs!).split(",");

/**
 * A config is a recipe, optionally with a generation variant after "@" that reuses its LoRAs:
 * `@recon` generates from the reference's own caption (how well the LoRA reproduces its clip),
 * `@w1.5` applies the LoRA at weight 1.5, `@g2` samples at guidance 2, `@early8` applies the LoRA on
 * the first 8 denoising steps only (the base model paints the rest).
 */
interface Variant {
  recipe: string;
  recon: boolean;
  weight: number;
  guidance?: number;
  loraSteps?: number;
}
function variant(config: string): Variant {
  const [recipe, ...mods] = config.split("@");
  const v: Variant = { recipe: recipe!, recon: false, weight: 1 };
  for (const m of mods) {
    if (m === "recon") v.recon = true;
    else if (/^w[\d.]+$/.test(m)) v.weight = Number(m.slice(1));
    else if (/^g[\d.]+$/.test(m)) v.guidance = Number(m.slice(1));
    else if (/^early\d+$/.test(m)) v.loraSteps = Number(m.slice(5));
    else throw new Error(`unknown generation variant '@${m}' in '${config}': use @recon, @w<weight>, @g<guidance> or @early<steps>`);
  }
  return v;
}
for (const c of configs) {
  const r = variant(c).recipe;
  if (r !== "floor" && !recipes[r]) throw new Error(`unknown config '${r}': use floor, ${Object.keys(recipes).join(", ")} or define it in --recipes`);
}
const budget: Partial<TuneOptions> = quick ? { spatialSteps: 3, temporalSteps: 6 } : {};
const seeds = quick ? 1 : Number(values.seeds);
const promptCount = quick ? 1 : Number(values.prompts);
const genSteps = quick ? 3 : Number(values.steps);

let cases = loadMotionBench().filter((b) => (!values.category || b.category === values.category) && (!values["ood-only"] || b.ood));
if (quick) cases = CATEGORIES.map((c) => cases.find((b) => b.category === c && b.ood)!).filter(Boolean);
else if (values.cases) {
  const per = Number(values.cases);
  // Per category, alternate ID and OOD so a subset keeps both.
  cases = CATEGORIES.flatMap((c) => cases.filter((b) => b.category === c).slice(0, per));
}

const reportOnly = values["report-only"]!;
const engine = reportOnly
  ? await createEngine("onnx", "cpu")
  : await createEngine(values.engine === "torch" ? "torch" : "onnx", values.provider as Provider, { tf32: values.tf32! });
// Results are named by engine and device (RESULTS-motionbench-onnx-cpu.md); the H100 runs pass --tag torch-h100.
const tag = values.tag ?? engine.name.split("+")[0]!.replace(":", "-");
const cacheDir = join(values.out!, `cache-${tag}`);
const progress = (msg: string) => process.stderr.write(`\r\x1b[K${msg}`);

const loraFile = (config: string, name: string) => join(cacheDir, config, `${name}.safetensors`);

/** A recipe's options: the defaults with the recipe's own on top. */
const recipeOptions = (config: string): TuneOptions => ({ ...DEFAULT_TUNE, ...recipes[config] });

/**
 * Tunes every (config, case) not cached yet, batched across configs: jobs of one shape (steps and
 * frames a step) train in lockstep whatever their recipe, up to --batch at a time.
 */
async function tuneAll(configNames: string[]): Promise<void> {
  const options = (config: string) => ({ ...recipeOptions(config), ...budget, seed: 0 });
  const todo = configNames.flatMap((config) => cases.map((_, i) => ({ config, i }))).filter((t) => !existsSync(loraFile(t.config, cases[t.i]!.name)));
  const byShape = new Map<string, typeof todo>();
  for (const t of todo) {
    const key = stageShape(engine, options(t.config));
    byShape
      .set(key, byShape.get(key) ?? [])
      .get(key)!
      .push(t);
  }
  // --batch counts the rows of a batched step: a LoRA with samplesPerStep k takes k of them.
  const batch = Number(values.batch);
  const rowsOf = (t: (typeof todo)[number]) => options(t.config).samplesPerStep ?? 1;
  const parts = [...byShape.values()].flatMap((g) => {
    const out: (typeof todo)[] = [];
    let rows = 0;
    for (const t of g) {
      if (!out.length || rows + rowsOf(t) > batch) {
        out.push([]);
        rows = 0;
      }
      out.at(-1)!.push(t);
      rows += rowsOf(t);
    }
    return out;
  });
  for (const part of parts) {
    const label = [...new Set(part.map((t) => t.config))].join("+");
    let done = 0;
    const t0 = performance.now();
    const results = await Promise.all(
      tuneMany(
        engine,
        part.map(({ config, i }) => ({
          clip: cases[i]!.clip,
          caption: cases[i]!.caption,
          options: options(config),
          onProgress: (p) => {
            if (p.stage === "temporal" && p.step === p.steps) done++;
            if (p.step % 50 === 0 || p.step === p.steps)
              progress(
                `${label}: tuning ${part.length} LoRAs together · ${p.stage} ${p.step}/${p.steps} · ${done}/${part.length} done · ${((performance.now() - t0) / 1000).toFixed(0)} s`,
              );
          },
        })),
      ),
    );
    for (const [k, { config, i }] of part.entries()) {
      const r = results[k]!;
      const tuning = {
        ...r.options,
        spatial_ms: r.spatial.ms,
        temporal_ms: r.temporal.ms,
        batch: r.temporal.batch,
        engine: r.engine,
        case: cases[i]!.name,
        ...(r.augment && { augment: r.augment }),
      };
      await mkdir(join(cacheDir, config), { recursive: true });
      if (r.augment) {
        // Which references the appearance bank recoloured, and why any was left unaugmented.
        const file = join(cacheDir, config, "augment.json");
        const seen = existsSync(file) ? (JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>) : {};
        await writeFile(file, JSON.stringify({ ...seen, [cases[i]!.name]: r.augment }, null, 1));
      }
      await writeFile(
        loraFile(config, cases[i]!.name),
        encodeLora(engine.config, r.temporal.lora, engine.base, { stage: "temporal", heads: r.heads.temporal, tuning }),
      );
    }
  }
}

/** A config's LoRAs, one per case, read back from the cache tuneAll filled. */
function loras(config: string): { lora: LoraWeights; spatialMs: number; temporalMs: number; batch: number }[] {
  return cases.map((c) => {
    const { lora, metadata } = decodeLora(engine.config, new Uint8Array(readFileSync(loraFile(config, c.name))), engine.base);
    const t = metadata.tuning_config as { spatial_ms: number; temporal_ms: number; batch: number };
    return { lora, spatialMs: t.spatial_ms, temporalMs: t.temporal_ms, batch: t.batch };
  });
}

const pool = new ScorePool();
const rows: Row[] = [];
const times: TuneTime[] = [];
const previews = new Map<string, Map<string, Clip>>(); // case -> config -> clip (prompt 0, seed 0)
const scoring: Promise<void>[] = [];
if (!reportOnly) await tuneAll([...new Set(configs.map((c) => variant(c).recipe).filter((r) => r !== "floor"))]);
for (const config of configs) {
  const timeFile = join(cacheDir, config, "tune-times.json");
  if (reportOnly) {
    if (existsSync(timeFile)) times.push(JSON.parse(await readFile(timeFile, "utf8")) as TuneTime);
    const file = join(cacheDir, config, "rows.json");
    if (existsSync(file)) rows.push(...(JSON.parse(await readFile(file, "utf8")) as Row[]).filter((r) => cases.some((c) => c.name === r.case)));
    continue;
  }
  const v = variant(config);
  const tuned = v.recipe === "floor" ? null : loras(v.recipe);
  if (tuned && v.recipe === config) {
    times.push({ config, spatialMs: tuned.map((t) => t.spatialMs), temporalMs: tuned.map((t) => t.temporalMs), batch: tuned[0]!.batch });
    await writeFile(timeFile, JSON.stringify(times.at(-1)));
  }
  const jobs = cases.flatMap((ref, i) =>
    (v.recon ? [ref.caption] : ref.newPrompts.slice(0, promptCount)).flatMap((prompt, p) =>
      Array.from({ length: seeds }, (_, seed) => ({ ref, i, prompt, p, seed })),
    ),
  );
  const rowFile = join(cacheDir, config, "rows.json");
  const have: Row[] = existsSync(rowFile) ? JSON.parse(await readFile(rowFile, "utf8")) : [];
  const key = (r: { case: string; prompt: number; seed: number }) => `${r.case}|${r.prompt}|${r.seed}`;
  const known = new Set(have.map(key));
  const todo = jobs.filter((j) => !known.has(key({ case: j.ref.name, prompt: j.p, seed: j.seed })) || (j.p === 0 && j.seed === 0));
  const batch = Number(values["gen-batch"]);
  for (let s = 0; s < todo.length; s += batch) {
    const part = todo.slice(s, s + batch);
    progress(`${config}: generating ${s + part.length}/${todo.length}`);
    const clips = await Promise.all(
      generateMany(
        engine,
        part.map((j) => ({
          prompt: j.prompt,
          steps: genSteps,
          seed: 1000 * j.p + j.seed,
          ...(v.guidance !== undefined && { guidance: v.guidance }),
          ...(v.loraSteps !== undefined && { loraSteps: v.loraSteps }),
          // A recipe's applyUntil is how its LoRAs are meant to be used; @early<k> overrides it.
          ...(tuned ? { loras: [{ lora: tuned[j.i]!.lora, weight: v.weight, until: recipeOptions(v.recipe).applyUntil ?? 1 }] } : {}),
        })),
      ),
    );
    // Scored on the pool's threads while the next batch generates.
    scoring.push(
      ...part.map(async (j, k) => {
        if (j.p === 0 && j.seed === 0) (previews.get(j.ref.name) ?? previews.set(j.ref.name, new Map()).get(j.ref.name)!).set(config, clips[k]!);
        if (known.has(key({ case: j.ref.name, prompt: j.p, seed: j.seed }))) return;
        have.push({
          config,
          case: j.ref.name,
          category: j.ref.category,
          ood: j.ref.ood,
          family: j.ref.family,
          prompt: j.p,
          seed: j.seed,
          text: j.prompt,
          ...(await pool.score(j.ref.name, clips[k]!, j.prompt)),
        });
      }),
    );
  }
  await Promise.all(scoring);
  scoring.length = 0;
  await mkdir(join(cacheDir, config), { recursive: true });
  await writeFile(rowFile, JSON.stringify(have));
  rows.push(...have.filter((r) => cases.some((c) => c.name === r.case)));
}
progress("");

// The tracker's own ceiling: the reference clips scored against their ground truth.
const ceiling = cases.map((ref) => ({
  case: ref.name,
  category: ref.category,
  ood: ref.ood,
  fidelity: motionFidelity(tracksFor(ref.clip, ref.category), truthTracks(ref.truth, ref.category)),
}));

// One GIF per case: reference | each config's first generation, side by side (none when rebuilt from a cache).
const gifs: Record<string, Uint8Array> = {};
for (const ref of reportOnly ? [] : cases) {
  const row = [ref.clip, ...configs.map((c) => previews.get(ref.name)?.get(c) ?? ref.clip)];
  const size = ref.clip.size;
  const gap = 2;
  const width = row.length * size + (row.length - 1) * gap;
  const rgb = new Uint8Array(ref.clip.frames * size * width * 3).fill(255);
  row.forEach((clip, k) => {
    const src = clipToRgb(clip);
    for (let f = 0; f < clip.frames; f++)
      for (let y = 0; y < size; y++)
        rgb.set(src.subarray((f * size + y) * size * 3, ((f * size + y) * size + size) * 3), ((f * size + y) * width + k * (size + gap)) * 3);
  });
  gifs[ref.name] = encodeGif({ width, height: size, count: ref.clip.frames, rgb }, { scale: 3 });
}

if (!values["no-report"]) {
  if (experimentDir) {
    await mkdir(experimentDir, { recursive: true });
    const used = Object.fromEntries(configs.filter((c) => variant(c).recipe !== "floor").map((c) => [c, recipes[variant(c).recipe]!]));
    await writeFile(join(experimentDir, "recipes.json"), `${JSON.stringify({ base: DEFAULT_TUNE, recipes: used }, null, 2)}\n`);
  }
  await writeReport({
    out: experimentDir ?? values.out!,
    experiment: experimentDir !== undefined,
    tag,
    engine: values["engine-label"] ?? engine.name,
    configs,
    rows,
    times,
    ceiling,
    gifs,
    cases,
    setup: {
      seeds,
      prompts: promptCount,
      genSteps,
      quick,
      tune: { ...DEFAULT_TUNE, ...budget },
      recipes: Object.fromEntries(configs.filter((c) => variant(c).recipe !== "floor").map((c) => [c, recipes[variant(c).recipe]!])),
    },
  });
}
await pool.close();
await engine.close?.();
