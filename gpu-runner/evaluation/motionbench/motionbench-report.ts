// MotionBench's report: one Markdown table set, one JSON, one tuning-time PNG and one HTML page of
// GIFs. A benchmark's is per engine tag, overwritten on each run; an experiment's has its own folder.
import { mkdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { clusterBootstrap, pairedDifference, ratioOfMeans, type Interval } from "../metrics/stats.ts";
import { barChart } from "./chart.ts";
import { CATEGORIES, type BenchClip } from "./motionbench-cases.ts";
import type { Scores } from "./motionbench-score.ts";

/** One scored generation: its case, prompt and seed, and every metric. */
export interface Row extends Scores {
  config: string;
  case: string;
  category: string;
  ood: boolean;
  family: string;
  prompt: number;
  seed: number;
  text: string;
}

export interface TuneTime {
  config: string;
  spatialMs: number[];
  temporalMs: number[];
  batch: number;
}

export interface ReportInput {
  out: string;
  tag: string;
  /** An experiment's report goes into its own folder (RESULTS.md, RESULTS.json, assets/) and never overwrites one. */
  experiment?: boolean;
  engine: string;
  configs: string[];
  rows: Row[];
  times: TuneTime[];
  ceiling: { case: string; category: string; ood: boolean; fidelity: number }[];
  gifs: Record<string, Uint8Array>;
  cases: BenchClip[];
  setup: Record<string, unknown>;
}

/** What pairs two generations: the same case, prompt and seed. */
export const pair = (r: Pick<Row, "case" | "prompt" | "seed">) => `${r.case}|${r.prompt}|${r.seed}`;
/** What the bootstrap resamples: cases, whose generations are not independent. */
export const cluster = (r: { case: string }) => r.case;
const fmt = (i: Interval, d = 2) => (Number.isFinite(i.mean) ? `${i.mean.toFixed(d)} (${i.lo.toFixed(d)}…${i.hi.toFixed(d)})` : "–");
const signed = (i: Interval, d = 2) =>
  Number.isFinite(i.mean) ? `${i.mean >= 0 ? "+" : ""}${i.mean.toFixed(d)} (${i.lo.toFixed(d)}…${i.hi.toFixed(d)})` : "–";
/** Every case, then MotionBench's in-distribution and out-of-distribution motions apart. */
export const SPLITS = [
  ["all", () => true],
  ["ID", (r: { ood: boolean }) => !r.ood],
  ["OOD", (r: { ood: boolean }) => r.ood],
] as const;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const appearance = (r: Row) => (r.colour + r.shape) / 2;

/** Summary statistics: per config, category and split, with cluster-bootstrap intervals (cluster = case). */
export function summarise(rows: Row[], configs: string[]) {
  const out: Record<string, unknown>[] = [];
  for (const config of configs) {
    for (const category of [...CATEGORIES, "all"]) {
      for (const [split, keep] of SPLITS) {
        const rs = rows.filter((r) => r.config === config && (category === "all" || r.category === category) && keep(r));
        if (!rs.length) continue;
        const floor = rows.filter((r) => r.config === "floor" && (category === "all" || r.category === category) && keep(r));
        const stat = (f: (r: Row) => number) => clusterBootstrap(rs, cluster, f);
        out.push({
          config,
          category,
          split,
          n: rs.length,
          cases: new Set(rs.map(cluster)).size,
          fidelity: stat((r) => r.fidelity),
          correlation: stat((r) => r.correlation),
          alignment: stat((r) => r.alignment),
          consistency: stat((r) => r.consistency),
          leakage: stat((r) => r.leakage),
          ...(config !== "floor" &&
            floor.length && {
              fidelityGain: pairedDifference(rs, floor, pair, cluster, (r) => r.fidelity),
              correlationGain: pairedDifference(rs, floor, pair, cluster, (r) => r.correlation),
              integrity: ratioOfMeans(rs, floor, pair, cluster, appearance),
            }),
        });
      }
    }
  }
  return out;
}

/** Where a report's files go: a benchmark's are named by tag and overwritten; an experiment owns its folder. */
export function reportPaths(out: string, tag: string, experiment = false) {
  return experiment
    ? { md: join(out, "RESULTS.md"), json: join(out, "RESULTS.json"), extras: join(out, "assets") }
    : { md: join(out, `RESULTS-motionbench-${tag}.md`), json: join(out, `RESULTS-motionbench-${tag}.json`), extras: join(out, `motionbench-${tag}`) };
}

/** Writes the tables (.md and .json) and the extras (tuning.png, index.html, gifs/) where `reportPaths` says. */
export async function writeReport(input: ReportInput): Promise<void> {
  const { out, tag, configs, rows } = input;
  const paths = reportPaths(out, tag, input.experiment);
  const extras = paths.extras;
  await mkdir(join(extras, "gifs"), { recursive: true });
  const summary = summarise(rows, configs) as ({ config: string; category: string; split: string; n: number; cases: number } & Record<string, Interval>)[];
  const get = (config: string, category: string, split: string) => summary.find((s) => s.config === config && s.category === category && s.split === split);
  const seedsPerPrompt = input.setup.seeds;
  const lines = [
    `# MotionBench v4 (${input.engine})`,
    "",
    `${new Date().toISOString()} · ${input.cases.length} reference cases (${input.cases.filter((c) => c.ood).length} with OOD motion) × ${input.setup.prompts} new prompts × ${seedsPerPrompt} sampling seeds · generation ${input.setup.genSteps} Euler steps, guidance 4${input.setup.quick ? " · **--quick smoke run: tiny budgets, numbers mean nothing**" : ""}.`,
    "Every figure: mean (90% cluster-bootstrap interval over cases, 2,000 resamples); n = generations. Gains are paired (same case, prompt and seed) against the no-LoRA floor.",
    "Motion fidelity: Yatim et al.'s score — for each point track of the generated clip (our tracker), the best-matching ground-truth track of the reference by mean cosine of frame-to-frame displacements (both still = 1, one still = 0), averaged. Trajectory correlation: main object / camera path, mean-removed, Pearson.",
    "",
    "## Motion fidelity by config, ID and OOD",
    "",
    "| config | split | n | motion fidelity | gain over floor (paired) | trajectory corr | gain over floor (paired) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const c of configs)
    for (const [split] of SPLITS) {
      const s = get(c, "all", split);
      if (s)
        lines.push(
          `| ${c} | ${split} | ${s.n} | ${fmt(s.fidelity!)} | ${s.fidelityGain ? signed(s.fidelityGain) : "–"} | ${fmt(s.correlation!)} | ${s.correlationGain ? signed(s.correlationGain) : "–"} |`,
        );
    }
  lines.push(
    "",
    "## Per category (motion fidelity; gain over floor, paired)",
    "",
    `| config | split | ${CATEGORIES.join(" | ")} |`,
    `| --- | --- | ${CATEGORIES.map(() => "---").join(" | ")} |`,
  );
  for (const c of configs)
    for (const [split] of SPLITS) {
      const cells = CATEGORIES.map((cat) => {
        const s = get(c, cat, split);
        return s ? `${fmt(s.fidelity!)}${s.fidelityGain ? `; ${signed(s.fidelityGain)}` : ""} (n ${s.n})` : "–";
      });
      lines.push(`| ${c} | ${split} | ${cells.join(" | ")} |`);
    }
  lines.push(
    "",
    "## Appearance",
    "",
    "Integrity: (colour + shape accuracy) with the LoRA ÷ the same without it, paired. Leakage: share of generations showing the reference's colour or shape where the prompt asked for another. Alignment: mean of colour, shape, background and object count as prompted. Consistency: frame-to-frame mask IoU of the tracked object.",
    "",
    "| config | split | text alignment | appearance integrity | leakage | temporal consistency |",
    "| --- | --- | --- | --- | --- | --- |",
  );
  for (const c of configs)
    for (const [split] of SPLITS) {
      const s = get(c, "all", split);
      if (s) lines.push(`| ${c} | ${split} | ${fmt(s.alignment!)} | ${s.integrity ? fmt(s.integrity) : "–"} | ${fmt(s.leakage!)} | ${fmt(s.consistency!)} |`);
    }
  // Method against method, paired, for every pair of tuned configs the run has.
  const tuned = configs.filter((c) => c !== "floor");
  if (tuned.length > 1) {
    lines.push("", "## Paired comparisons between configs (motion fidelity, A − B)", "", "| A | B | all | ID | OOD |", "| --- | --- | --- | --- | --- |");
    for (let i = 0; i < tuned.length; i++)
      for (let j = i + 1; j < tuned.length; j++) {
        const cells = SPLITS.map(([, keep]) =>
          signed(
            pairedDifference(
              rows.filter((r) => r.config === tuned[i] && keep(r)),
              rows.filter((r) => r.config === tuned[j] && keep(r)),
              pair,
              cluster,
              (r) => r.fidelity,
            ),
          ),
        );
        lines.push(`| ${tuned[i]} | ${tuned[j]} | ${cells.join(" | ")} |`);
      }
  }
  lines.push(
    "",
    "## Tuning time",
    "",
    "Wall time of each stage; `batch` LoRAs (one per case) trained together in each step, so the time per LoRA is the wall time ÷ batch.",
    "",
    "| config | batch | spatial stage s (median) | temporal stage s (median) | per LoRA s |",
    "| --- | --- | --- | --- | --- |",
  );
  for (const t of input.times) {
    const total = median(t.spatialMs) + median(t.temporalMs);
    lines.push(
      `| ${t.config} | ${t.batch} | ${(median(t.spatialMs) / 1000).toFixed(1)} | ${(median(t.temporalMs) / 1000).toFixed(1)} | ${(total / 1000 / t.batch).toFixed(2)} |`,
    );
  }
  const failures = configs.map((c) => [c, rows.filter((r) => r.config === c && r.failed).length] as const).filter(([, n]) => n > 0);
  if (failures.length)
    lines.push(
      "",
      `Generations that could not be scored (non-finite pixels or a failed metric; scored 0): ${failures.map(([c, n]) => `${c} ${n}`).join(", ")}.`,
    );
  const ceil = (keep: (r: { ood: boolean }) => boolean) => clusterBootstrap(input.ceiling.filter(keep), cluster, (r) => r.fidelity);
  lines.push(
    "",
    `Tracker ceiling (the reference clips themselves scored against their ground truth): all ${fmt(ceil(() => true))}, ID ${fmt(ceil((r) => !r.ood))}, OOD ${fmt(ceil((r) => r.ood))}.`,
    "",
    `Setup: ${JSON.stringify(input.setup)}`,
    "",
    `Previews: ${basename(extras)}/index.html (reference | ${configs.join(" | ")}, first prompt, seed 0).`,
  );
  await writeFile(paths.md, `${lines.join("\n")}\n`);
  await writeFile(paths.json, `${JSON.stringify({ engine: input.engine, setup: input.setup, summary, times: input.times, ceiling: input.ceiling, rows })}\n`);
  if (input.times.length) {
    await writeFile(
      join(extras, "tuning.png"),
      await barChart(
        `tuning time per lora, s (${tag})`,
        input.times.map((t) => {
          const v = (median(t.spatialMs) + median(t.temporalMs)) / 1000 / t.batch;
          return { label: t.config, value: v, text: `${v.toFixed(2)} s` };
        }),
      ),
    );
  }
  if (!Object.keys(input.gifs).length) return; // rebuilt from a cache: the previews are those of the run that made them
  const cells = (c: BenchClip) =>
    `<tr><td><b>${c.name}</b><br>${c.ood ? "OOD" : "ID"} · ${c.family}<br><small>tuned on: ${c.caption}<br>new prompt: ${c.newPrompts[0]}</small></td><td><img src="gifs/${c.name}.gif" alt="${c.name}"></td></tr>`;
  for (const [name, gif] of Object.entries(input.gifs)) await writeFile(join(extras, "gifs", `${name}.gif`), gif);
  await writeFile(
    join(extras, "index.html"),
    `<!doctype html><meta charset="utf-8"><title>MotionBench v4 (${input.engine})</title>
<style>body{font:14px system-ui;margin:2em}td{padding:6px;vertical-align:top;border-bottom:1px solid #ddd}img{image-rendering:pixelated}</style>
<h1>MotionBench v4 — ${input.engine}</h1><p>Each row: reference | ${configs.join(" | ")} (first new prompt, seed 0). Tables: <a href="../${basename(paths.md)}">${basename(paths.md)}</a>.</p>
<table>${input.cases.map(cells).join("\n")}</table>\n`,
  );
}
