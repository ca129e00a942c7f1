// Two MotionBench runs of the same configs, paired row by row (same case, prompt and seed): what changed
// between them, such as the base model's weights. Reads the runs' RESULTS.json; prints a Markdown table.
// Usage: npx tsx gpu-runner/evaluation/motionbench/compare-runs.ts BEFORE/RESULTS.json AFTER/RESULTS.json [--configs a,b]
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { type Interval, pairedDifference } from "../metrics/stats.ts";
import { cluster, pair, type Row as ReportRow, SPLITS } from "./motionbench-report.ts";

/** What a comparison reads of a run's rows (RESULTS.json `rows`). */
type Row = Pick<ReportRow, "config" | "case" | "prompt" | "seed" | "ood" | "fidelity" | "correlation">;

const f = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(3)}`;
const cell = (i: Interval) => `${f(i.mean)} (${f(i.lo)}…${f(i.hi)})`;

/** After − before per config and split, each a cluster bootstrap over cases of the paired differences. */
export function compareRuns(before: Row[], after: Row[], configs: string[]): string[] {
  const lines = ["| config | split | pairs | Δ motion fidelity (after − before) | Δ trajectory corr |", "| --- | --- | --- | --- | --- |"];
  for (const config of configs) {
    for (const [split, inSplit] of SPLITS) {
      const keep = (r: Row) => r.config === config && inSplit(r);
      const [a, b] = [after.filter(keep), before.filter(keep)];
      if (!a.length || !b.length) continue;
      const fid = pairedDifference(a, b, pair, cluster, (r) => r.fidelity);
      const corr = pairedDifference(a, b, pair, cluster, (r) => r.correlation);
      lines.push(`| ${config} | ${split} | ${fid.n} | ${cell(fid)} | ${cell(corr)} |`);
    }
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { configs: { type: "string" } } });
  if (positionals.length !== 2) throw new Error("usage: compare-runs.ts BEFORE/RESULTS.json AFTER/RESULTS.json [--configs a,b]");
  const [before, after] = await Promise.all(positionals.map(async (p) => (JSON.parse(await readFile(p, "utf8")) as { rows: Row[] }).rows));
  const configs = values.configs?.split(",") ?? [...new Set(after!.map((r) => r.config))].filter((c) => before!.some((r) => r.config === c));
  console.log(compareRuns(before!, after!, configs).join("\n"));
  console.log("\nMeans of the paired differences with 90% cluster-bootstrap intervals over cases (2,000 resamples).");
}
