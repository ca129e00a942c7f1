// What a tune's transfer samples cost the runner: seconds per sample (generation at the default 20
// steps, then the motion-fidelity score and the GIF) on the ONNX engine, measured through the
// runner's own transferSamples. The LoRAs are tuned with a few steps only: a sample's cost does not
// depend on how well its LoRA was trained.
// Usage: npx tsx gpu-runner/evaluation/speed/transfer-samples.ts [--clips 2] [--samples 3] [--out gpu-runner/evaluation/results/RESULTS-transfer-samples-onnx-cpu.md]
import { readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { fitClip } from "../../../sdk/video/frames.ts";
import { readFrames } from "../../../sdk/video/read.ts";
import { clipFromRgb } from "../../core/clip.ts";
import { createEngine } from "../../engine/create.ts";
import { generateMany } from "../../fym/sampler.ts";
import { tune } from "../../fym/tune.ts";
import { loadGrammar, transferPrompts } from "../../runner/sample-prompt.ts";
import { transferSamples } from "../../runner/transfer-samples.ts";
import type { Category } from "../metrics/tracker.ts";

const { values } = parseArgs({
  options: {
    clips: { type: "string", default: "2" },
    samples: { type: "string", default: "3" },
    out: { type: "string", default: "gpu-runner/evaluation/results/RESULTS-transfer-samples-onnx-cpu.md" },
  },
});
const STEPS = 20;
const examples = new URL("../../../examples/clips/", import.meta.url);
const captions = JSON.parse(await readFile(new URL("captions.json", examples), "utf8")) as Record<string, string>;
const engine = await createEngine("onnx", "cpu");
const grammar = (await loadGrammar())!;
const rows: { clip: string; prompt: string; genS: number }[] = [];
const after: number[] = [];
const load = [loadavg()[0]!];
for (const [name, caption] of Object.entries(captions).slice(0, Number(values.clips))) {
  const frames = fitClip(await readFrames(new Uint8Array(await readFile(new URL(`${name}.png`, examples)))));
  const clip = clipFromRgb(frames.rgb, frames.count, frames.width);
  const r = await tune(engine, clip, caption, { spatialSteps: 2, temporalSteps: 3, seed: 1 });
  const prompts = transferPrompts(caption, grammar, Number(values.samples));
  const ends: number[] = [];
  const t0 = performance.now();
  await transferSamples((list) => generateMany(engine, list), {
    reference: clip,
    category: name.replace(/-\d+$/, "") as Category,
    lora: { lora: r.temporal.lora, weight: 1, until: 0.5 },
    prompts,
    steps: STEPS,
    signal: new AbortController().signal,
    onStep: (done) => {
      if (done % STEPS === 0) ends.push(performance.now());
    },
  });
  const t1 = performance.now();
  for (const [i, prompt] of prompts.entries()) rows.push({ clip: name, prompt, genS: (ends[i]! - (i ? ends[i - 1]! : t0)) / 1000 });
  after.push((t1 - ends[ends.length - 1]!) / 1000 / prompts.length);
  load.push(loadavg()[0]!);
  console.log(
    name,
    rows
      .slice(-prompts.length)
      .map((x) => x.genS.toFixed(2))
      .join(" "),
    "s; score + GIF",
    after[after.length - 1]!.toFixed(3),
    "s each",
  );
}
await engine.close?.();

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
const gen = rows.map((x) => x.genS);
const md = `# Transfer samples on the ONNX engine (CPU)

${new Date().toISOString().slice(0, 10)}, \`npx tsx gpu-runner/evaluation/speed/transfer-samples.ts --clips ${values.clips} --samples ${values.samples}\`, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}),
load average ${load.map((l) => l.toFixed(1)).join(" → ")} during the run (the machine is shared: the figures are upper bounds).

Per sample, ${STEPS} sampling steps: generation median ${median(gen).toFixed(2)} s (min ${sorted(gen)[0]!.toFixed(2)}, max ${sorted(gen).at(-1)!.toFixed(2)}, n = ${gen.length});
its motion-fidelity score and GIF ${median(after).toFixed(3)} s (median per sample over n = ${after.length} tunes).

| clip | prompt | generation (s) |
| --- | --- | --- |
${rows.map((x) => `| ${x.clip} | ${x.prompt} | ${x.genS.toFixed(2)} |`).join("\n")}
`;
await writeFile(values.out!, md);
console.log(md);
