// Speed of the ONNX graphs through onnxruntime-node: one denoiser step (batch 2 = guidance),
// a whole generation, and one training step of each stage. Medians after warm-up, with the
// GFLOP/s achieved against counted matrix-product FLOPs (gpu-runner/engine/flops.ts).
// Usage: npx tsx gpu-runner/evaluation/speed/graphs.ts [--provider cpu|webgpu] [--runs 10] [--out DIR]
// Writes DIR/RESULTS-graphs-onnx-<provider>.md and .json (default DIR: gpu-runner/evaluation/results).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { forwardMacs, trainStepMacs } from "../../engine/flops.ts";
import { goldenInputs } from "../../engine/golden.ts";
import type { GraphName } from "../../engine/manifest.ts";
import type { Provider } from "../../engine/providers.ts";
import { OnnxModel } from "../../engine/session.ts";

const { values } = parseArgs({
  options: {
    provider: { type: "string", default: "cpu" },
    runs: { type: "string", default: "10" },
    out: { type: "string", default: "gpu-runner/evaluation/results" },
    threads: { type: "string" },
  },
});
const provider = values.provider as Provider;
const runs = Number(values.runs);
const model = await OnnxModel.load({ provider, ...(values.threads ? { threads: Number(values.threads) } : {}) });
const cfg = model.config;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const inputsFor = (name: GraphName) => goldenInputs(model.manifest.graphs[name], cfg.vocab);

async function time(name: GraphName, n = runs, warmup = 2): Promise<number[]> {
  const feeds = inputsFor(name);
  for (let i = 0; i < warmup; i++) await model.run(name, feeds);
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await model.run(name, feeds);
    ms.push(performance.now() - t);
  }
  return ms;
}

const rows: string[] = [];
const figures: { step: string; ms: number; gflop: number | null }[] = [];
const row = (what: string, ms: number, macs?: number) => {
  figures.push({ step: what, ms, gflop: macs ? (2 * macs) / 1e9 : null });
  const gflops = macs ? ((2 * macs) / (ms / 1000) / 1e9).toFixed(1) : "";
  const line = `| ${what} | ${ms.toFixed(1)} | ${macs ? ((2 * macs) / 1e9).toFixed(2) : ""} | ${gflops} |`;
  rows.push(line);
  console.log(line);
};
const header = `# ONNX graph speed (${provider})\n\n${new Date().toISOString()} · onnxruntime-node · ${provider === "cpu" ? `${cpus().length} cores (intra-op threads = cores)` : provider} · model ${model.manifest.model.id} (${cfg.depth} blocks, d=${cfg.dim}, ${cfg.heads} heads, ${cfg.frames}×${cfg.size}² clips = ${cfg.frames * (cfg.size / cfg.patch) ** 2} tokens) · median of ${runs} after 2 warm-up runs\n\n| step | ms | GFLOP counted | GFLOP/s |\n| --- | --- | --- | --- |`;
console.log(header);

const den = median(await time("denoiser"));
row("denoiser step, batch 2 (conditional + unconditional)", den, forwardMacs(cfg, cfg.frames, 2));
const text = median(await time("text_encoder"));
row("text encoder, one prompt", text);
const k = model.manifest.model.sparse_frames;
const trainMs: Record<string, number> = {};
for (const [name, frames, label] of [
  ["train_step_spatial", 1, "training step, spatial stage (1 frame)"],
  ["train_step_sparse", k, `training step, temporal stage, sparse (${k} frames)`],
  ["train_step_dense", cfg.frames, `training step, temporal stage, dense (${cfg.frames} frames)`],
] as const) {
  trainMs[name] = median(await time(name));
  row(label, trainMs[name], trainStepMacs(cfg, frames));
}
const probe = median(await time("attention_probe", Math.min(runs, 5)));
row("attention probe (head classification statistics)", probe);

// A whole generation: 2 text-encoder runs + 20 guided denoiser steps, timed end to end (3 runs).
const gens: number[] = [];
const dfeeds = inputsFor("denoiser");
const tfeeds = inputsFor("text_encoder");
for (let r = 0; r < 3; r++) {
  const t = performance.now();
  await model.run("text_encoder", tfeeds);
  await model.run("text_encoder", tfeeds);
  for (let s = 0; s < 20; s++) await model.run("denoiser", dfeeds);
  gens.push(performance.now() - t);
}
row(`whole generation: ${cfg.frames} frames, 20 steps, guidance (batch 2)`, median(gens), 20 * forwardMacs(cfg, cfg.frames, 2));
const summary = `\nSparse temporal step vs dense, side by side in this run: **${(trainMs.train_step_dense! / trainMs.train_step_sparse!).toFixed(1)}×** faster. Targets on the 2-core CPU: generation ≤ 15 000 ms, temporal-stage (sparse) step ≤ 500 ms.\n`;
console.log(summary);
await model.release();
const name = join(values.out!, `RESULTS-graphs-onnx-${provider}`);
await writeFile(`${name}.md`, `${[header, ...rows, summary].join("\n")}\n`);
await writeFile(`${name}.json`, `${JSON.stringify({ at: new Date().toISOString(), provider, cores: cpus().length, runs, figures }, null, 1)}\n`);
