// Tuning sweep: does a motion LoRA tuned on a reference clip bring back that clip's motion under the
// reference caption (spatial + motion LoRA: reproduction, the first check of any setting), and carry
// it to the clip's first new prompt (motion LoRA alone: transfer)?
// Usage: npx tsx gpu-runner/bench/reproduce.ts --clips single-object-1 --sweep '{"base":{},"long":{"temporalSteps":800}}' [--seeds 2] [--name NAME]
import { mkdir, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { OnnxEngine } from "../engine/onnx-engine.ts";
import type { Provider } from "../engine/providers.ts";
import { OnnxModel } from "../engine/session.ts";
import type { Clip } from "../fym/clip.ts";
import { loadMotionBench } from "../fym/motionbench.ts";
import { generate } from "../fym/sampler.ts";
import { tune, type TuneOptions } from "../fym/tune.ts";
import { globalShiftTrajectory, objectTrajectory, trajectoryAgreement } from "../metrics/track.ts";

const { values } = parseArgs({
  options: {
    clips: { type: "string", default: "single-object-1" },
    sweep: { type: "string", default: '{"default":{}}' },
    seeds: { type: "string", default: "2" },
    weight: { type: "string", default: "1" },
    provider: { type: "string", default: "cpu" },
    out: { type: "string", default: "gpu-runner/bench" },
    name: { type: "string", default: "sweep" },
  },
});
const engine = new OnnxEngine(await OnnxModel.load({ provider: values.provider as Provider }));
const sweep = JSON.parse(values.sweep!) as Record<string, Partial<TuneOptions> & { floor?: boolean }>;
const bench = loadMotionBench().filter((b) => values.clips!.split(",").includes(b.name));
const seeds = Number(values.seeds);
const trajectoryOf = (clip: Clip, category: string) => (category === "camera-motion" ? globalShiftTrajectory(clip) : objectTrajectory(clip));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const lines = [
  `# Reproduction sweep (${engine.name}, ${values.name})`,
  "",
  `${new Date().toISOString()} · generation with the reference caption, 20 Euler steps, guidance 4, LoRA weight ${values.weight}, ${seeds} sampling seeds · trajectory correlation / displacement cosine against the reference (1 = same motion)`,
  "",
  "| clip | config | options | temporal loss first→last 20 | reproduction correlation per seed | reproduction mean correlation | transfer correlation per seed | transfer mean correlation | temporal s |",
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
];
for (const ref of bench) {
  const refTraj = trajectoryOf(ref.clip, ref.category);
  for (const [name, opts] of Object.entries(sweep)) {
    const { floor, ...partial } = opts;
    const r = floor ? null : await tune(engine, ref.clip, ref.caption, partial);
    const weight = Number(values.weight);
    const agreement = async (prompt: string, loras: Parameters<typeof generate>[1]["loras"]) => {
      const corr: number[] = [];
      for (let s = 0; s < seeds; s++) {
        const clip = await generate(engine, { prompt, seed: 100 + s, ...(loras ? { loras } : {}) });
        corr.push(trajectoryAgreement(refTraj, trajectoryOf(clip, ref.category)).correlation);
      }
      return corr;
    };
    const corr = await agreement(ref.caption, r ? [{ lora: r.temporal.lora, weight }, { lora: r.spatial.lora, weight: 1 }] : undefined);
    const transfer = await agreement(ref.newPrompts[0]!, r ? [{ lora: r.temporal.lora, weight }] : undefined);
    const losses = r?.temporal.losses ?? [];
    const loss = losses.length ? `${mean(losses.slice(0, 20)).toFixed(4)} → ${mean(losses.slice(-20)).toFixed(4)}` : "—";
    const line = `| ${ref.name} | ${name} | \`${JSON.stringify(opts)}\` | ${loss} | ${corr.map((c) => c.toFixed(2)).join(", ")} | ${mean(corr).toFixed(3)} | ${transfer.map((c) => c.toFixed(2)).join(", ")} | ${mean(transfer).toFixed(3)} | ${r ? (r.temporal.ms / 1000).toFixed(1) : "—"} |`;
    console.log(line);
    lines.push(line);
  }
}
await mkdir(values.out!, { recursive: true });
await writeFile(`${values.out}/RESULTS-reproduce-${values.provider}-${values.name}.md`, lines.join("\n") + "\n");
await engine.model.release();
