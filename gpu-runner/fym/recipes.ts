// Recipes are data: one file each in fym/recipes/ (the default with every option and a line of why,
// its batched form, the baselines of the ablations), read here. A recipe that names its evidence (a
// MotionBench results file and the config it ran as) carries the figures of that run, read from the
// file itself: a LoRA tuned with it is stamped with them.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as z from "zod";
import type { Engine } from "../engine/engine.ts";
import { OPTIONAL_DEFAULTS, type TuneOptions } from "./options.ts";

const DIR = new URL("./recipes/", import.meta.url);
const ROOT = new URL("../../", import.meta.url);

const Options = z.strictObject({
  spatialSteps: z.number().int().min(0),
  temporalSteps: z.number().int().min(1),
  rank: z.number().int().min(1),
  lr: z.number().positive(),
  warmupSteps: z.number().int().min(0),
  seed: z.number().int().min(0),
  sampling: z.enum(["strided", "random", "window", "dense"]),
  sparseFrames: z.number().int().min(0),
  rope: z.enum(["adaptive", "centred", "plain"]),
  decoupleHeads: z.boolean(),
  motionLossWeight: z.number().min(0),
  headMargin: z.number(),
  headAlpha: z.number().positive(),
  timestepShift: z.number().positive(),
  appearanceAug: z.number().min(0).max(1),
  augVariants: z.number().int().min(1),
  augSpatialWeight: z.number().min(0),
  temporalProjections: z.string().regex(/^[qkvo]+$/),
  samplesPerStep: z.number().int().min(1),
  applyUntil: z.number().gt(0).max(1),
}) satisfies z.ZodType<Required<TuneOptions>>;

const RecipeFile = z.strictObject({
  extends: z.string().optional(),
  why: z.string().min(1),
  evidence: z.strictObject({ file: z.string().endsWith(".json"), config: z.string().min(1) }).optional(),
  options: Options.partial(),
  notes: z.partialRecord(Options.keyof(), z.string()).optional(),
});
type RecipeFile = z.infer<typeof RecipeFile>;

export interface Recipe {
  name: string;
  why: string;
  /** The recipe's own overrides on top of the recipe it extends (what a sweep or a card shows). */
  overrides: Partial<TuneOptions>;
  /** Every option, resolved through `extends`. */
  options: TuneOptions;
  evidence?: { file: string; config: string };
}

function load(): Map<string, Recipe> {
  const files = new Map<string, RecipeFile>();
  for (const f of readdirSync(DIR).filter((f) => f.endsWith(".json"))) {
    const parsed = RecipeFile.safeParse(JSON.parse(readFileSync(new URL(f, DIR), "utf8")));
    if (!parsed.success) throw new Error(`fym/recipes/${f}: ${z.prettifyError(parsed.error)}`);
    files.set(f.slice(0, -".json".length), parsed.data);
  }
  const resolved = new Map<string, Recipe>();
  const resolve = (name: string, seen: string[]): TuneOptions => {
    const file = files.get(name);
    if (!file) throw new Error(`fym/recipes: '${seen.at(-1)}' extends '${name}', which has no file`);
    if (seen.includes(name)) throw new Error(`fym/recipes: ${[...seen, name].join(" → ")} extends itself`);
    const base = file.extends ? resolve(file.extends, [...seen, name]) : undefined;
    const options = { ...base, ...file.options } as TuneOptions;
    if (!base) {
      const missing = Object.keys(Options.shape).filter((k) => !(k in options) && !(k in OPTIONAL_DEFAULTS));
      if (missing.length) throw new Error(`fym/recipes/${name}.json extends nothing, so it must set every option; missing ${missing.join(", ")}`);
    }
    return options;
  };
  for (const [name, file] of files)
    resolved.set(name, {
      name,
      why: file.why,
      overrides: file.options as Partial<TuneOptions>,
      options: resolve(name, []),
      ...(file.evidence && { evidence: file.evidence }),
    });
  return resolved;
}

export const RECIPES: ReadonlyMap<string, Recipe> = load();

export function recipe(name: string): Recipe {
  const r = RECIPES.get(name);
  if (!r) throw new RangeError(`no recipe '${name}': one of ${[...RECIPES.keys()].join(", ")}`);
  return r;
}

export const DEFAULT_TUNE: TuneOptions = recipe("default").options;
/** The default's form on an engine with a batched trainer (several samples a step for little more than one). */
export const BATCHED_DEFAULT: Partial<TuneOptions> = recipe("default-batched").overrides;

/** The recipes of the ablations by name, as overrides of the default (what `--configs` of the benchmarks take). */
export const BASELINES: Record<string, Partial<TuneOptions>> = Object.fromEntries(
  [...RECIPES.values()].map((r) => [r.name, Object.fromEntries(Object.entries(r.options).filter(([k, v]) => DEFAULT_TUNE[k as keyof TuneOptions] !== v))]),
);

/**
 * The default recipe on `engine`, given the options a job sets: the batched form where the engine
 * has a batched trainer and the job leaves the temporal steps to the recipe (a job that sets them
 * counts one-sample steps, as on every engine).
 */
export function defaultTuneFor(engine: Pick<Engine, "createTrainer">, partial: Partial<TuneOptions> = {}): TuneOptions {
  const batched = engine.createTrainer !== undefined && partial.temporalSteps === undefined && partial.samplesPerStep === undefined;
  return batched ? recipe("default-batched").options : DEFAULT_TUNE;
}

/** "default" when the options are the default's or its batched form's (any seed), else "custom": what a LoRA card says of its recipe. */
export function recipeName(o: TuneOptions): "default" | "custom" {
  const keys = new Set([...Object.keys(DEFAULT_TUNE), ...Object.keys(OPTIONAL_DEFAULTS)]) as Set<keyof TuneOptions>;
  const value = (x: Partial<TuneOptions>, k: keyof TuneOptions) => x[k] ?? (OPTIONAL_DEFAULTS as Partial<TuneOptions>)[k];
  const same = (d: TuneOptions) => [...keys].every((k) => k === "seed" || value(o, k) === value(d, k));
  return same(DEFAULT_TUNE) || same(recipe("default-batched").options) ? "default" : "custom";
}

type Interval = { mean: number; lo: number; hi: number };
type Summary = { config: string; category: string; split: string } & Record<string, Interval | unknown>;

/** The MotionBench figures a LoRA of this recipe carries, read from its evidence (all categories; 90% intervals, rounded to 0.01). */
export interface BenchmarkStamp {
  file: string;
  config: string;
  motion_fidelity: { all: number[]; id: number[]; ood: number[] };
  no_lora: number;
  naive_two_stage?: number;
  appearance_integrity: number[];
  leakage: number;
}

const stamps = new Map<string, BenchmarkStamp>();

export function benchmarkStamp(r: Recipe): BenchmarkStamp {
  if (!r.evidence) throw new RangeError(`recipe '${r.name}' names no evidence`);
  const cached = stamps.get(r.name);
  if (cached) return cached;
  const { file, config } = r.evidence;
  const summary = (JSON.parse(readFileSync(fileURLToPath(new URL(file, ROOT)), "utf8")) as { summary: Summary[] }).summary;
  const at = (c: string, split: string) =>
    summary.find((s) => s.config === c && s.category === "all" && s.split === split) as Record<string, Interval> | undefined;
  const need = (c: string, split: string) => at(c, split) ?? missing(`${file} has no summary row for config '${c}' (${split})`);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const iv = (i: Interval) => [r2(i.mean), r2(i.lo), r2(i.hi)];
  const naive = at("naive-two-stage", "all");
  const stamp: BenchmarkStamp = {
    file: file.replace(/\.json$/, ".md"),
    config,
    motion_fidelity: { all: iv(need(config, "all").fidelity!), id: iv(need(config, "ID").fidelity!), ood: iv(need(config, "OOD").fidelity!) },
    no_lora: r2(need("floor", "all").fidelity!.mean),
    ...(naive && { naive_two_stage: r2(naive.fidelity!.mean) }),
    appearance_integrity: iv(need(config, "all").integrity!),
    leakage: r2(need(config, "all").leakage!.mean),
  };
  stamps.set(r.name, stamp);
  return stamp;
}

function missing(what: string): never {
  throw new Error(`a recipe's evidence is incomplete: ${what}`);
}

/** The benchmark figures a default-recipe LoRA carries: those of the form it was tuned with. */
export function defaultBenchmarkOf(o: TuneOptions): BenchmarkStamp {
  return benchmarkStamp(recipe((o.samplesPerStep ?? 1) > 1 ? "default-batched" : "default"));
}
