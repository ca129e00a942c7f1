// Engines side by side on one machine: the torch engine (the torch process; plain eager fp32, and
// fp32 CUDA graphs: "torch-fast") against onnxruntime-node (WebGPU where it loads, and CPU), driven by the same
// TypeScript pipeline. Per engine: start, one training step per stage, one guided denoiser call,
// a 20-step generation and (torch) a whole default FYM tuning. Also parity of the torch engine
// on the GPU against the ONNX graphs. Usage: npx tsx gpu-runner/evaluation/speed/engines.ts [--engines torch,torch-fast,webgpu,cpu] [--python-ref FILE.json] [--tag h100]
// Writes DIR/RESULTS-engines-<tag>.md and .json: every engine on one machine, so the tag names the machine.
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { Engine, TrainGraph } from "../../engine/engine.ts";
import { OnnxEngine } from "../../engine/onnx-engine.ts";
import { OnnxModel } from "../../engine/session.ts";
import { TorchEngine } from "../../engine/torch-engine.ts";
import { generate, packSlots } from "../../fym/sampler.ts";
import { tune } from "../../fym/tune.ts";
import { Rng } from "../../core/rng.ts";
import { loadMotionBench } from "../motionbench/motionbench-cases.ts";

const { values } = parseArgs({
  options: {
    engines: { type: "string", default: "torch,torch-fast,webgpu,cpu" },
    reps: { type: "string", default: "20" },
    "python-ref": { type: "string" },
    out: { type: "string", default: "gpu-runner/evaluation/results" },
    tag: { type: "string", default: "h100" },
  },
});
const reps = Number(values.reps);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ref = loadMotionBench().find((b) => b.name === "single-object-01")!;

async function time(fn: () => Promise<unknown>, n = reps) {
  for (let i = 0; i < 3; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

async function stepTimes(engine: Engine) {
  const cfg = engine.config;
  const rng = new Rng(1);
  const { text, mask } = await engine.encodeText(ref.caption);
  const lora = {
    A: rng.normals(cfg.depth * 4 * cfg.lora_rank * cfg.dim).map((v) => v * 0.02),
    B: new Float32Array(cfg.depth * 4 * cfg.dim * cfg.lora_rank),
    scale: 1,
  };
  const row: Record<string, number> = {};
  for (const [graph, frames] of [
    ["spatial", 1],
    ["sparse", engine.sparseFrames],
    ["dense", cfg.frames],
  ] as [TrainGraph, number][]) {
    const n = frames * 3 * cfg.size * cfg.size;
    const input = {
      x0: ref.clip.data.subarray(0, n),
      noise: rng.normals(n),
      t: 0.6,
      text,
      textMask: mask,
      framePos: Float32Array.from({ length: frames }, (_, i) => i),
      frozen: lora,
      lora,
      lossWeights: [1, 0] as [number, number],
    };
    row[`train_${graph}`] = await time(() => engine.trainStep(graph, input));
  }
  const n = cfg.frames * 3 * cfg.size * cfg.size;
  const x = rng.normals(2 * n);
  const t2 = new Float32Array(2 * text.length);
  t2.set(text);
  t2.set(text, text.length);
  const m2 = new Float32Array(2 * mask.length);
  m2.set(mask);
  m2.set(mask, mask.length);
  const slots = packSlots(engine, []);
  const pos = Float32Array.from({ length: cfg.frames }, (_, i) => i);
  row.denoise_b2 = await time(() => engine.denoise(x, Float32Array.of(0.5, 0.5), t2, m2, pos, slots));
  row.generate_20 = await time(() => generate(engine, { prompt: ref.caption, steps: 20 }), 5);
  return row;
}

const rows: Record<string, Record<string, number | string>> = {};
for (const kind of values.engines!.split(",")) {
  try {
    const t0 = performance.now();
    const engine: Engine & { close?: () => Promise<void> } =
      kind === "torch"
        ? await TorchEngine.start({ device: "cuda", cudaGraphs: false })
        : kind === "torch-fast"
          ? await TorchEngine.start({ device: "cuda" })
          : await (async () => {
              const m = await OnnxModel.load({ provider: kind as "cpu" });
              return Object.assign(new OnnxEngine(m), { close: () => m.release() });
            })();
    const startMs = performance.now() - t0;
    const row: Record<string, number | string> = { engine: engine.name, start_ms: startMs, ...(await stepTimes(engine)) };
    if (kind.startsWith("torch")) {
      // Whole default FYM tuning, with the torch process's start included as a user would see it.
      await engine.close?.();
      const t1 = performance.now();
      const fresh = await TorchEngine.start({ device: "cuda", cudaGraphs: kind === "torch-fast" });
      const r = await tune(fresh, ref.clip, ref.caption, {});
      row.tune_s = (performance.now() - t1) / 1000;
      row.tune_spatial_s = r.spatial.ms / 1000;
      row.tune_temporal_s = r.temporal.ms / 1000;
      await fresh.close();
    } else await engine.close?.();
    rows[kind] = row;
    console.error(JSON.stringify(row));
  } catch (e) {
    rows[kind] = { engine: kind, error: String((e as Error).message).slice(0, 300) };
    console.error(`${kind}: ${(e as Error).message}`);
  }
}

// Parity on the GPU: the torch process (fp32, then bf16) against the ONNX graphs on CPU, same inputs.
const parity: Record<string, number> = {};
try {
  const onnx = new OnnxEngine(await OnnxModel.load({ provider: "cpu" }));
  for (const [name, opts] of [
    ["fp32-graphs", {}],
    ["bf16-graphs", { bf16: true }],
    ["fp32-eager", { cudaGraphs: false }],
  ] as const) {
    const torch = await TorchEngine.start({ device: "cuda", ...opts });
    const cfg = onnx.config;
    const rng = new Rng(9);
    const { text, mask } = await onnx.encodeText(ref.caption);
    const k = onnx.sparseFrames;
    const n = k * 3 * cfg.size * cfg.size;
    const lora = {
      A: rng.normals(cfg.depth * 4 * cfg.lora_rank * cfg.dim).map((v) => v * 0.05),
      B: rng.normals(cfg.depth * 4 * cfg.dim * cfg.lora_rank).map((v) => v * 0.05),
      scale: 1,
    };
    const input = {
      x0: ref.clip.data.subarray(0, n),
      noise: rng.normals(n),
      t: 0.6,
      text,
      textMask: mask,
      framePos: Float32Array.of(0, 5, 10, 15),
      frozen: lora,
      lora,
      lossWeights: [1, 0.5] as [number, number],
    };
    const a = await torch.trainStep("sparse", input);
    const b = await onnx.trainStep("sparse", input);
    const rel = (x: Float32Array, y: Float32Array) =>
      x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0) / y.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    parity[`${name}_loss`] = Math.abs(a.loss - b.loss) / b.loss;
    parity[`${name}_grad_A`] = rel(a.gradA, b.gradA);
    parity[`${name}_grad_B`] = rel(a.gradB, b.gradB);
    await torch.close();
  }
  await onnx.model.release();
} catch (e) {
  parity.error = NaN;
  console.error(`parity: ${(e as Error).message}`);
}

const py = values["python-ref"] ? JSON.parse(await readFile(values["python-ref"], "utf8")) : null;
const fmt = (v: unknown) => (typeof v === "number" ? (v >= 100 ? v.toFixed(0) : v.toFixed(2)) : String(v ?? "—"));
const cols = ["start_ms", "train_spatial", "train_sparse", "train_dense", "denoise_b2", "generate_20", "tune_s", "tune_spatial_s", "tune_temporal_s"];
const lines = [
  "# Engines side by side",
  "",
  `${new Date().toISOString()} · ${py?.device ?? "GPU"} · medians of ${reps} after 3 warm-ups (generation: of 5) · ms unless named _s · the TypeScript pipeline drives each engine · command: \`npx tsx gpu-runner/evaluation/speed/engines.ts --python-ref …\``,
  "",
  `| engine | ${cols.join(" | ")} |`,
  `| --- | ${cols.map(() => "---").join(" | ")} |`,
  ...Object.values(rows).map((r) => `| ${r.engine} | ${cols.map((c) => fmt(r[c])).join(" | ")} |${r.error ? ` error: ${r.error}` : ""}`),
];
if (py) {
  lines.push(
    "",
    "Pure PyTorch on the same GPU, no TypeScript and no process boundary (`gpu-runner/model/fymnet/evaluation/engine_bench.py`):",
    "",
    "| variant | train_spatial | train_sparse | train_dense | denoise_b2 |",
    "| --- | --- | --- | --- | --- |",
  );
  for (const [v, r] of Object.entries(py.step_ms as Record<string, Record<string, number>>))
    lines.push(`| ${v} | ${fmt(r.train_spatial)} | ${fmt(r.train_sparse)} | ${fmt(r.train_dense)} | ${fmt(r.denoise_b2)} |`);
  lines.push(
    "",
    `Whole FYM tuning loop in Python (probe, 100 spatial + 800 temporal steps, AdamW on the GPU, eager fp32): ${fmt(py.python_tune_s)} s (spatial ${fmt(py.python_spatial_s)} s, temporal ${fmt(py.python_temporal_s)} s).`,
  );
  const gfast = rows["torch-fast"];
  const gpy = py.step_ms.graphs_fp32;
  if (gfast && gpy && typeof gfast.train_sparse === "number")
    lines.push(
      `Per temporal step with CUDA graphs: TypeScript over the torch process ${fmt(gfast.train_sparse)} ms vs the same graphs called in Python ${fmt(gpy.train_sparse)} ms → ${(((gfast.train_sparse as number) / gpy.train_sparse - 1) * 100).toFixed(1)}% overhead.`,
    );
  const ts = rows.torch;
  if (ts && typeof ts.tune_temporal_s === "number")
    lines.push(
      `TypeScript pipeline over the torch process, same engine settings: temporal stage ${fmt(ts.tune_temporal_s)} s → overhead ${(((ts.tune_temporal_s as number) / py.python_temporal_s - 1) * 100).toFixed(1)}% over pure Python.`,
    );
  const eager = py.step_ms.eager_fp32?.train_sparse;
  const fast = rows["torch-fast"]?.train_sparse;
  const webgpu = rows.webgpu?.train_sparse;
  if (eager && typeof fast === "number")
    lines.push(
      `Temporal-stage step: torch engine (CUDA graphs, fp32) ${fmt(fast)} ms vs plain PyTorch eager ${fmt(eager)} ms → ${(eager / fast).toFixed(2)}×${typeof webgpu === "number" ? `; vs ONNX WebGPU ${fmt(webgpu)} ms → ${(webgpu / fast).toFixed(1)}×` : ""}.`,
    );
}
lines.push(
  "",
  `Parity of the torch engine on the GPU vs the ONNX graphs (CPU), one sparse training step, relative max error: ${Object.entries(parity)
    .map(([k, v]) => `${k} ${v.toExponential(1)}`)
    .join(", ")}.`,
);
await writeFile(`${values.out}/RESULTS-engines-${values.tag}.md`, `${lines.join("\n")}\n`);
await writeFile(`${values.out}/RESULTS-engines-${values.tag}.json`, `${JSON.stringify({ rows, parity, python: py }, null, 1)}\n`);
console.log(lines.join("\n"));
