// The index of every result in the repository (docs/results.md), made from the files themselves so it
// cannot drift: `npm run results:index` rewrites it, and results-index.test.ts fails when it is stale.
//   Benchmarks of the shipped code: <part>/bench/results/RESULTS-<what>-<engine>-<device>.md, overwritten by each run
//   (and the runner image's proof, gpu-runner/container/RESULTS-cpu-image.md).
//   Experiments (sweeps, ablations): gpu-runner/evaluation/experiments/<date>-<name>/ (RESULTS.md, recipes.json, assets/),
//   never overwritten: a new run is a new folder.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const BENCHMARK_DIRS = ["gpu-runner/evaluation/results", "registry/bench/results", "test/bench/results", "gpu-runner/container"];
export const EXPERIMENTS_DIR = "gpu-runner/evaluation/experiments";
export const INDEX = "docs/results.md";

/** How to re-run each benchmark: the one place that says it (a results file without an entry fails the index). */
export const COMMANDS: Record<string, string> = {
  "RESULTS-motionbench-torch-h100.md": "`bash gpu-runner/model/run_bench.sh full` (CUDA machine; `npm run bench:motion` runs it on the ONNX engine)",
  "RESULTS-batched-torch-h100.md": "`bash gpu-runner/model/run_bench.sh batched` (CUDA machine)",
  "RESULTS-engines-h100.md": "`bash gpu-runner/model/run_engine.sh bench` (CUDA machine)",
  "RESULTS-graphs-onnx-cpu.md": "`npx tsx gpu-runner/evaluation/speed/graphs.ts`",
  "RESULTS-stack-onnx-cpu.md": "`npm run bench:stack`",
  "RESULTS-first-job-heartbeats.md": "`npx tsx test/bench/first-job-heartbeats.ts --runs 3`",
  "RESULTS-load-sqlite.md": "`npm run bench:registry`",
  "RESULTS-load-node-workerd.md": "`npm run bench:registry`",
  "RESULTS-hostile-gallery.md": "`npm run bench:hostile-gallery` (`-- --before COMMIT` measures older code in the same run)",
  "RESULTS-failed-auth-flood.md": "`npx tsx registry/bench/failed-auth-flood.ts`",
  "RESULTS-hostile-streams.md": "`npx tsx registry/bench/hostile-streams.ts`",
  "RESULTS-transfer-samples-onnx-cpu.md": "`npx tsx gpu-runner/evaluation/speed/transfer-samples.ts`",
  "RESULTS-cpu-image.md": "`bash gpu-runner/container/prove-cpu-image.sh` (root, mmdebstrap and buildah)",
};

const title = (file: string) => /^# (.+)$/m.exec(readFileSync(file, "utf8"))?.[1]?.trim() ?? "(no title)";
const stamp = (file: string) => /\b(20\d\d-\d\d-\d\d)/.exec(readFileSync(file, "utf8"))?.[1] ?? "–";
const cell = (s: string) => s.replaceAll("|", "\\|");
const link = (path: string) => `[\`${path}\`](../${path})`;

export function benchmarks(root = ROOT) {
  return BENCHMARK_DIRS.flatMap((dir) =>
    readdirSync(join(root, dir))
      .filter((f) => /^RESULTS-.+\.md$/.test(f))
      .sort()
      .map((f) => ({ file: `${dir}/${f}`, name: f, title: title(join(root, dir, f)), date: stamp(join(root, dir, f)), command: COMMANDS[f] })),
  );
}

export function experiments(root = ROOT) {
  return readdirSync(join(root, EXPERIMENTS_DIR), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const dir = `${EXPERIMENTS_DIR}/${name}`;
      const results = join(root, dir, "RESULTS.md");
      return {
        name,
        dir,
        title: existsSync(results) ? title(results) : undefined,
        recipes: existsSync(join(root, dir, "recipes.json")),
        assets: existsSync(join(root, dir, "assets")),
      };
    });
}

/** The index's text; throws naming what is missing, so a results file cannot land unindexed. */
export function renderIndex(root = ROOT): string {
  const b = benchmarks(root);
  const e = experiments(root);
  const problems = [
    ...b.filter((x) => !x.command).map((x) => `${x.file}: no command in test/results-index.ts COMMANDS`),
    ...e.filter((x) => !/^\d{4}-\d\d-\d\d-[a-z0-9-]+$/.test(x.name)).map((x) => `${x.dir}: name it YYYY-MM-DD-what`),
    ...e.filter((x) => !x.title).map((x) => `${x.dir}: no RESULTS.md`),
  ];
  if (problems.length) throw new Error(`the results index cannot be made:\n${problems.join("\n")}`);
  return [
    "# Results",
    "",
    "<!-- Made by `npm run results:index` from the files it lists; edit those, not this. -->",
    "",
    "Every figure the code and docs cite comes from one of these files; they link here rather than copy figures.",
    "",
    "## Benchmarks of the shipped code",
    "",
    "One file per benchmark, engine and device, overwritten by each run (earlier runs live in git); a `.json`",
    "beside the `.md` holds the same figures as data where the script writes one.",
    "",
    "| benchmark | run | file | command |",
    "| --- | --- | --- | --- |",
    ...b.map((x) => `| ${cell(x.title)} | ${x.date} | ${link(x.file)} | ${cell(x.command!)} |`),
    "",
    "## Experiments",
    "",
    "Sweeps and ablations: a folder each, never overwritten (a new run is a new folder), with its `RESULTS.md`,",
    "the recipes it compared (`recipes.json`: the base options and each candidate's overrides) and its",
    "previews and charts (`assets/`). A sweep runs as `EXPERIMENT=YYYY-MM-DD-what CONFIGS=… RECIPES=file.json",
    "bash gpu-runner/model/run_bench.sh sweep` on a CUDA machine (`--experiment` of `gpu-runner/evaluation/motionbench/motionbench.ts`).",
    "",
    "| experiment | what it measured | recipes |",
    "| --- | --- | --- |",
    ...e.map((x) => `| [${x.name}](../${x.dir}/RESULTS.md) | ${cell(x.title!)} | ${x.recipes ? `[recipes.json](../${x.dir}/recipes.json)` : "–"} |`),
    "",
    "The model's own runs (pretraining, export, parity, quality) keep their logs and reports in `gpu-runner/model/runs/`.",
    "",
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(join(ROOT, INDEX), renderIndex());
  console.log(`wrote ${INDEX}`);
}
