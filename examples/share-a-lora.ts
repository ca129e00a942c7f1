// Sharing: one person publishes a motion LoRA file; another finds it, pulls it (sha256-verified)
// and uses it. Needs MOTION_LORA_REGISTRY, MOTION_LORA_TOKEN (the publisher) and
// MOTION_LORA_TOKEN_2 (the user; any key with the read and write scopes).
import { MotionLora, readVideoFile } from "@motion-lora/sdk/node";

const baseUrl = process.env.MOTION_LORA_REGISTRY ?? "http://127.0.0.1:8787";
const publisher = new MotionLora({ baseUrl, apiKey: process.env.MOTION_LORA_TOKEN! });
const user = new MotionLora({ baseUrl, apiKey: process.env.MOTION_LORA_TOKEN_2! });
const owner = (await publisher.me()).owner!;

// The publisher tunes on a human-motion clip (a wave) and publishes it publicly.
const version = await publisher.tune({
  video: await readVideoFile(new URL("clips/human-motion-1.png", import.meta.url).pathname),
  prompt: "a cyan person on a gradient maroon background",
  lora: `${owner}/person-moves`,
  create: { title: "Person moves", category: "human-motion", tags: ["person", "shared"], visibility: "public" },
  options: { spatial_steps: Number(process.env.SPATIAL_STEPS ?? 100), temporal_steps: Number(process.env.TEMPORAL_STEPS ?? 400) },
});

// Someone else searches the catalog, inspects the file, and generates with it.
let found = null;
for await (const lora of user.loras.list({ category: "human-motion", q: "person" })) if (lora.name === "person-moves") found = lora;
if (!found) throw new Error("the shared LoRA is not listed");
const { bytes, version: pulled } = await user.versions.download(`${found.owner}/${found.name}`);
console.error(`pulled ${found.owner}/${found.name}@${pulled.version}: ${bytes.length} bytes, heads ${JSON.stringify(pulled.target_heads)}`);
const clip = await user.generate({
  prompt: "a yellow person on a teal background",
  loras: [{ ref: `${found.owner}/${found.name}@${pulled.version}` }],
  options: { steps: Number(process.env.STEPS ?? 20) },
});
console.log(JSON.stringify({ shared: `${found.owner}/${found.name}@${version.version}`, pulled_sha256: pulled.file_sha256, frames: clip.frames.count }));
