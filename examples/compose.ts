// Composing: two motion LoRAs at once (the model has slots for both), each with its own weight.
import { MotionLora, readVideoFile, writeVideoFile } from "@motion-lora/sdk/node";

// The registry and token come from MOTION_LORA_REGISTRY and MOTION_LORA_TOKEN.
const client = new MotionLora();
const owner = (await client.me()).owner!;
const out = process.env.EXAMPLES_OUT ?? "examples/out";
const options = { spatial_steps: Number(process.env.SPATIAL_STEPS ?? 100), temporal_steps: Number(process.env.TEMPORAL_STEPS ?? 400) };

const tuneOne = async (clip: string, prompt: string, name: string, category: "single-object" | "camera-motion") =>
  client.tune({
    video: await readVideoFile(new URL(`clips/${clip}.png`, import.meta.url).pathname),
    prompt,
    lora: `${owner}/${name}`,
    create: { title: name, category },
    options,
  });

const [object, camera] = await Promise.all([
  tuneOne("single-object-2", "a big green circle on a gradient black background", "circle-path", "single-object"),
  tuneOne("camera-motion-1", "a magenta cross on a noisy navy background", "camera-pan", "camera-motion"),
]);
const clip = await client.generate({
  prompt: "a white star on a noisy teal background",
  loras: [
    { ref: `${object.owner}/${object.name}@${object.version}`, weight: 0.8 },
    { ref: `${camera.owner}/${camera.name}@${camera.version}`, weight: 0.8 },
  ],
  options: { steps: Number(process.env.STEPS ?? 20), seed: 3 },
});
await writeVideoFile(`${out}/compose.gif`, clip.frames);
console.log(JSON.stringify({ loras: clip.job.resolved_loras.map((l) => `${l.ref}:${l.weight}`), output: `${out}/compose.gif` }));
