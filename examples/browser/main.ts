// The browser example: bundled with the SDK into main.js (see examples/browser/build.ts).
import { encodeGif, MotionLora } from "@motion-lora/sdk";

const params = new URLSearchParams(location.search);
const $ = (id: string) => document.getElementById(id)!;
const result = $("result");

try {
  const client = new MotionLora({ baseUrl: params.get("registry")!, apiKey: params.get("token")! });
  for await (const lora of client.loras.list({ limit: 10 })) {
    const li = document.createElement("li");
    li.textContent = `${lora.owner}/${lora.name} v${lora.latest_version} — ${lora.title}`;
    $("loras").append(li);
  }
  const clip = await client.generate({
    prompt: params.get("prompt") ?? "a red circle on a black background",
    loras: params.get("lora") ? [{ ref: params.get("lora")! }] : [],
    options: { steps: Number(params.get("steps") ?? 20) },
    onProgress: (p) => ($("status").textContent = `${p.status ?? ""} ${p.stage ?? ""} ${(p.progress * 100).toFixed(0)}%`),
  });
  const gif = encodeGif(clip.frames, { scale: 4 });
  ($("clip") as HTMLImageElement).src = URL.createObjectURL(new Blob([gif as Uint8Array<ArrayBuffer>], { type: "image/gif" }));
  $("status").textContent = "done";
  result.textContent = JSON.stringify({ job: clip.job.id, frames: clip.frames.count, gifBytes: gif.length, listed: $("loras").children.length });
  result.dataset.state = "done";
} catch (e) {
  result.textContent = `${(e as Error).name}: ${(e as Error).message}`;
  result.dataset.state = "error";
}
