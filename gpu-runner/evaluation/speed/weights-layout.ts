// Weights as graph inputs (one fp16 safetensors file shared by all graphs, what ships) against
// weights embedded in each graph as fp32 external data (python -m fymnet.export.embed_weights, in gpu-runner/model):
// load time (read weights + create session) and run time, side by side.
// An experiment (the decision is made): a new run writes a new folder.
// Usage: npx tsx gpu-runner/evaluation/speed/weights-layout.ts EMBEDDED_DIR --out gpu-runner/evaluation/experiments/YYYY-MM-DD-weights-layout
import ort from "onnxruntime-node";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { goldenInputs } from "../../engine/golden.ts";
import { DEFAULT_ARTIFACTS, loadManifest, type GraphName } from "../../engine/manifest.ts";
import { sessionOptions } from "../../engine/providers.ts";
import { readFloatTensors } from "../../engine/weights.ts";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { out: { type: "string" }, runs: { type: "string", default: "10" } },
});
const embedded = positionals[0];
if (!embedded || !values.out) throw new Error("usage: weights-layout.ts EMBEDDED_DIR --out gpu-runner/evaluation/experiments/YYYY-MM-DD-weights-layout");
if (existsSync(join(values.out, "RESULTS.md"))) throw new Error(`${values.out} already holds results: an experiment is never overwritten`);
await mkdir(values.out, { recursive: true });
const manifest = await loadManifest(DEFAULT_ARTIFACTS, { verify: false });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const opts = sessionOptions("cpu", 2);
const figures: { graph: string; layout: string; loadMs: number; runMs: number }[] = [];
const lines = [
  `# Weights as inputs vs embedded (CPU, 2 threads, median of ${values.runs} runs, 5 loads)`,
  "",
  "| graph | layout | load ms | run ms |",
  "| --- | --- | --- | --- |",
];

for (const graph of ["denoiser", "train_step_sparse"] as GraphName[]) {
  const g = manifest.graphs[graph];
  const golden = goldenInputs(g, manifest.model.config.vocab);
  const feeds = Object.fromEntries(g.inputs.filter((s) => s.used).map((s) => [s.name, new ort.Tensor(s.dtype, golden[s.name]!, s.shape)]));
  for (const layout of ["inputs", "embedded"] as const) {
    const loads: number[] = [];
    let session!: ort.InferenceSession;
    let weightFeeds: Record<string, ort.Tensor> = {};
    for (let i = 0; i < 5; i++) {
      await session?.release();
      const t = performance.now();
      if (layout === "inputs") {
        const { tensors } = await readFloatTensors(join(DEFAULT_ARTIFACTS, manifest.model.weights));
        weightFeeds = Object.fromEntries(g.weights.map((w) => [w, new ort.Tensor("float32", tensors.get(w)!.data, tensors.get(w)!.shape)]));
        session = await ort.InferenceSession.create(join(DEFAULT_ARTIFACTS, g.file), opts);
      } else {
        weightFeeds = {};
        session = await ort.InferenceSession.create(join(embedded, `${graph}.onnx`), opts);
      }
      loads.push(performance.now() - t);
    }
    const all = { ...weightFeeds, ...feeds };
    for (let i = 0; i < 2; i++) await session.run(all);
    const runs: number[] = [];
    for (let i = 0; i < Number(values.runs); i++) {
      const t = performance.now();
      await session.run(all);
      runs.push(performance.now() - t);
    }
    await session.release();
    const line = `| ${graph} | ${layout === "inputs" ? "weights as inputs (fp16 file, shared)" : "embedded fp32 external data (per graph)"} | ${median(loads).toFixed(0)} | ${median(runs).toFixed(1)} |`;
    figures.push({ graph, layout, loadMs: median(loads), runMs: median(runs) });
    lines.push(line);
    console.log(line);
  }
}
await writeFile(join(values.out!, "RESULTS.md"), `${lines.join("\n")}\n`);
await writeFile(join(values.out!, "RESULTS.json"), `${JSON.stringify({ at: new Date().toISOString(), runs: Number(values.runs), figures }, null, 1)}\n`);
