// Writes the example reference clips from the MotionBench clips bundled with the model:
// a lossless clip PNG (what the examples upload) and a GIF preview of each.
// Usage: npx tsx examples/clips/make.ts
import { writeFile } from "node:fs/promises";
import { loadMotionBench } from "../../gpu-runner/evaluation/motionbench/motionbench-cases.ts";
import { clipToFrames } from "../../gpu-runner/core/clip.ts";
import { encodeClipPng } from "../../sdk/video/frames.ts";
import { encodeGif } from "../../sdk/video/gif.ts";

const dir = new URL(".", import.meta.url).pathname;
const captions: Record<string, string> = {};
for (const b of loadMotionBench()) {
  const frames = clipToFrames(b.clip);
  await writeFile(`${dir}${b.name}.png`, await encodeClipPng(frames));
  await writeFile(`${dir}${b.name}.gif`, encodeGif(frames, { scale: 4 }));
  captions[b.name] = b.caption;
}
await writeFile(`${dir}captions.json`, JSON.stringify(captions, null, 2) + "\n");
console.log(`wrote ${Object.keys(captions).length} clips to ${dir}`);
