// Quickstart: tune a motion LoRA on a reference clip, then give that motion to a new prompt.
// Run against a registry (motion-lora registry start) with a key:
//   MOTION_LORA_REGISTRY=http://127.0.0.1:8787 MOTION_LORA_TOKEN=mlk_... npx tsx examples/quickstart.ts
import { type JobProgress, MotionLora, readVideoFile, schema, writeVideoFile } from "@motion-lora/sdk/node";

// The registry and token come from MOTION_LORA_REGISTRY and MOTION_LORA_TOKEN.
const client = new MotionLora();
const me = await client.me();
const out = process.env.EXAMPLES_OUT ?? "examples/out";

// 1. A reference clip whose motion we want (any GIF, PNG frames, or MP4 with ffmpeg).
const video = await readVideoFile(new URL("clips/single-object-1.png", import.meta.url).pathname);

// On a terminal one line that updates; in a log, a line per stage.
const tty = process.stderr.isTTY;
let lastLabel = "";
function onProgress(p: JobProgress) {
  if (tty) process.stderr.write(`\rtune: ${(p.progress * 100).toFixed(0)}% ${p.label}   `);
  else if (p.label !== lastLabel) console.error(`tune: ${(p.progress * 100).toFixed(0)}% ${p.label}`);
  lastLabel = p.label;
}

// 2. Tune: the runner learns the clip's motion into a LoRA and publishes it as a version.
const version = await client.tune({
  video,
  prompt: "a white diamond on a striped black background",
  lora: `${me.owner}/diamond-path`,
  create: { title: "Diamond path", category: "single-object", tags: ["quickstart"] },
  // The default recipe (about 10 min on a 2-core CPU): fewer steps tune faster and carry little motion.
  options: {
    ...(process.env.SPATIAL_STEPS && { spatial_steps: Number(process.env.SPATIAL_STEPS) }),
    ...(process.env.TEMPORAL_STEPS && { temporal_steps: Number(process.env.TEMPORAL_STEPS) }),
  },
  onProgress,
});
console.error(`${tty ? "\n" : ""}published ${version.owner}/${version.name}@${version.version} (${version.stage} LoRA, rank ${version.rank})`);
if (version.transfer) {
  const score = version.transfer.motion_fidelity.toFixed(2);
  console.error(`transfer score ${score}: motion fidelity of ${version.transfer.n} samples on new prompts (${schema.FIDELITY_SCALE})`);
  for (const s of version.samples) if (s.motion_fidelity !== null) console.error(`  ${s.motion_fidelity.toFixed(2)}  "${s.prompt}"`);
}

// 3. Generate: a new prompt, the reference's motion.
const clip = await client.generate({
  prompt: "a red circle on a gradient navy background",
  loras: [{ ref: `${version.owner}/${version.name}@${version.version}`, weight: 1 }],
  options: { steps: Number(process.env.STEPS ?? 20), seed: 1 },
});
await writeVideoFile(`${out}/quickstart.gif`, clip.frames);
console.log(JSON.stringify({ version: `${version.owner}/${version.name}@${version.version}`, output: `${out}/quickstart.gif`, frames: clip.frames.count }));
