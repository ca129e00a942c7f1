// Writes PNG strips for people to look at: each MotionBench reference, and the base model's
// generation for its caption (every other frame, 3× scale), and its head classification heat map.
// Usage: npx tsx gpu-runner/evaluation/motionbench/preview.ts [--out gpu-runner/evaluation/motionbench/previews] [--clips 4]
import { mkdir, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { encodePng, frameStrip } from "../../../sdk/video/png.ts";
import { clipToRgb, type Clip } from "../../core/clip.ts";
import { OnnxEngine } from "../../engine/onnx-engine.ts";
import { OnnxModel } from "../../engine/session.ts";
import { probeHeads } from "../../fym/head-classification.ts";
import { headHeatmap } from "../../fym/heatmap.ts";
import { generate } from "../../fym/sampler.ts";
import { loadMotionBench } from "./motionbench-cases.ts";

const { values } = parseArgs({
  options: { out: { type: "string", default: "gpu-runner/evaluation/motionbench/previews" }, clips: { type: "string", default: "8" } },
});
const engine = new OnnxEngine(await OnnxModel.load({ verify: false }));
await mkdir(values.out!, { recursive: true });
const strip = async (clip: Clip, file: string) => {
  const s = frameStrip(clipToRgb(clip), clip.frames, clip.size, 3, 2);
  await writeFile(`${values.out}/${file}`, await encodePng(s.rgb, s.width, s.height));
};
for (const ref of loadMotionBench().slice(0, Number(values.clips))) {
  await strip(ref.clip, `${ref.name}-reference.png`);
  await strip(await generate(engine, { prompt: ref.caption, seed: 1 }), `${ref.name}-base-model.png`);
  const heat = headHeatmap(await probeHeads(engine, ref.clip, ref.caption));
  await writeFile(`${values.out}/${ref.name}-heads.png`, await encodePng(heat.rgb, heat.width, heat.height));
  console.log(`${ref.name}: "${ref.caption}"`);
}
await engine.model.release();
