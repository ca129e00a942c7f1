// MotionBench: motion fidelity of transfer, appearance leakage and tuning time, FYM vs baselines,
// on the bundled reference clips (two per category), each with its new prompts.
// Usage: npx tsx gpu-runner/bench/motion.ts [--configs floor,fym,naive-two-stage] [--engine onnx|torch]
//        [--provider cpu|webgpu] [--clips a,b] [--name TAG] [--out DIR]
import { mkdir, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { Provider } from "../engine/providers.ts";
import { createEngine } from "../runner/start.ts";
import type { Clip } from "../fym/clip.ts";
import { loadMotionBench } from "../fym/motionbench.ts";
import { generate } from "../fym/sampler.ts";
import { BASELINES, tune } from "../fym/tune.ts";
import { foregroundMasks, globalShiftTrajectory, objectTrajectory, trajectoryAgreement } from "../metrics/track.ts";

const { values } = parseArgs({ options: { configs: { type: "string", default: "floor,fym,naive-two-stage" }, provider: { type: "string", default: "cpu" }, out: { type: "string", default: "gpu-runner/bench" }, steps: { type: "string", default: "20" }, reproduce: { type: "boolean", default: false }, name: { type: "string" }, engine: { type: "string", default: "onnx" }, clips: { type: "string" } } });
const engine = await createEngine(values.engine as "onnx", values.provider as Provider);
const configs = values.configs!.split(",");
const bench = loadMotionBench().filter((b) => !values.clips || values.clips.split(",").includes(b.name));

// Object colours of the synthetic world (gpu-runner/model/world.py RGB), for the leakage check.
const PALETTE: Record<string, [number, number, number]> = {
  red: [0.9, 0.1, 0.1], green: [0.1, 0.8, 0.2], blue: [0.2, 0.35, 1.0], yellow: [0.95, 0.9, 0.1],
  cyan: [0.1, 0.9, 0.9], magenta: [0.9, 0.15, 0.85], white: [1, 1, 1], orange: [1.0, 0.55, 0.05],
};
const colourWords = (caption: string) => caption.split(" ").filter((w) => w in PALETTE);

function dominantColour(clip: Clip): string | null {
  const masks = foregroundMasks(clip);
  const plane = clip.size * clip.size;
  const sum = [0, 0, 0];
  let n = 0;
  masks.forEach((m, f) => {
    for (let p = 0; p < plane; p++) {
      if (!m[p]) continue;
      for (let c = 0; c < 3; c++) sum[c]! += (clip.data[(f * 3 + c) * plane + p]! + 1) / 2;
      n++;
    }
  });
  if (!n) return null;
  const mean = sum.map((s) => s / n);
  let best: string | null = null;
  let bestD = Infinity;
  for (const [name, rgb] of Object.entries(PALETTE)) {
    const d = rgb.reduce((s, v, i) => s + (v - mean[i]!) ** 2, 0);
    if (d < bestD) [best, bestD] = [name, d];
  }
  return best;
}

const trajectoryOf = (clip: Clip, category: string) => (category === "camera-motion" ? globalShiftTrajectory(clip) : objectTrajectory(clip));

interface Row { clip: string; category: string; config: string; prompt: string; cosine: number; correlation: number; leaked: boolean | null; spatialMs: number; temporalMs: number }
const rows: Row[] = [];
for (const ref of bench) {
  const refTraj = trajectoryOf(ref.clip, ref.category);
  for (const config of configs) {
    let lora = null;
    let spatialMs = 0;
    let temporalMs = 0;
    if (config !== "floor") {
      const r = await tune(engine, ref.clip, ref.caption, { ...BASELINES[config], seed: 0 });
      lora = r.temporal.lora;
      spatialMs = r.spatial.ms;
      temporalMs = r.temporal.ms;
    }
    // --reproduce adds the reference caption itself: a motion LoRA should first reproduce its motion there.
    const prompts = values.reproduce ? [ref.caption, ...ref.newPrompts] : ref.newPrompts;
    for (const [i, prompt] of prompts.entries()) {
      const clip = await generate(engine, { prompt, steps: Number(values.steps), seed: 100 + i, ...(lora ? { loras: [{ lora, weight: 1 }] } : {}) });
      const agreement = trajectoryAgreement(refTraj, trajectoryOf(clip, ref.category));
      const refColours = colourWords(ref.caption);
      const newColours = colourWords(prompt);
      const got = dominantColour(clip);
      const leaked = ref.category === "single-object" && got !== null && refColours[0] !== newColours[0] ? got === refColours[0] : null;
      const row = { clip: ref.name, category: ref.category, config: values.reproduce && i === 0 ? `${config} (reference caption)` : config, prompt, cosine: agreement.displacementCosine, correlation: agreement.correlation, leaked, spatialMs, temporalMs };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const lines = [
  `# MotionBench (${engine.name})`,
  "",
  `${new Date().toISOString()} · ${bench.length} reference clips × ${bench[0]?.newPrompts.length} new prompts · generation: ${values.steps} Euler steps, guidance 4 · tuning: defaults of gpu-runner/fym/tune.ts (spatial 100 + temporal 800 steps, lr 3e-3, timestep shift 3) · motion fidelity: mean cosine of per-frame displacement vectors and correlation of mean-removed trajectories between the reference and the clip generated for a new prompt (object centroid tracking; phase correlation for camera motion)`,
  "",
  "| config | category | displacement cosine | trajectory correlation | spatial stage s | temporal stage s |",
  "| --- | --- | --- | --- | --- | --- |",
];
for (const config of [...new Set(rows.map((r) => r.config))]) {
  for (const cat of [...new Set(bench.map((b) => b.category)), "all"]) {
    const rs = rows.filter((r) => r.config === config && (cat === "all" || r.category === cat));
    lines.push(`| ${config} | ${cat} | ${mean(rs.map((r) => r.cosine)).toFixed(3)} | ${mean(rs.map((r) => r.correlation)).toFixed(3)} | ${(mean(rs.map((r) => r.spatialMs)) / 1000).toFixed(1)} | ${(mean(rs.map((r) => r.temporalMs)) / 1000).toFixed(1)} |`);
  }
}
const leaks = rows.filter((r) => r.leaked !== null);
lines.push("", `Appearance leakage (single-object clips whose new prompt names another colour): ${configs.map((c) => `${c} ${leaks.filter((r) => r.config === c && r.leaked).length}/${leaks.filter((r) => r.config === c).length}`).join(", ")}.`);
await mkdir(values.out!, { recursive: true });
const where = values.engine === "onnx" ? values.provider! : engine.name.replace(/[^a-z0-9]+/gi, "-");
const tag = values.name ? `${where}-${values.name}` : where;
await writeFile(`${values.out}/RESULTS-motion-${tag}.md`, lines.join("\n") + "\n");
await writeFile(`${values.out}/motion-${tag}.json`, JSON.stringify(rows, null, 1) + "\n");
console.log(lines.join("\n"));
await engine.close?.();
