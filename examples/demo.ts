// The main job on the embedded default: an SQLite registry with a local CPU runner started on
// demand, a key, then the quickstart (tune a motion LoRA on a bundled clip, generate with it).
// Usage: npm run demo   (data in ./.motion-lora, clips in examples/out/)
import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { createKey } from "../registry/auth/keys.ts";
import { startRegistry } from "../registry/node.ts";

const registry = await startRegistry({ runner: "local", port: Number(process.env.PORT ?? 0), log: () => {} });
const key = await createKey(
  registry.services.db,
  { owner: "demo", name: "npm run demo", scopes: ["read", "write"] },
  registry.services.config.defaultRateLimitPerMinute,
);
console.error(`registry on ${registry.url} (data in ${registry.home}); running the quickstart…`);
await mkdir("examples/out", { recursive: true });
const code = await new Promise<number | null>((resolve) => {
  const child = spawn(process.execPath, ["--import", "tsx", new URL("quickstart.ts", import.meta.url).pathname], {
    env: { ...process.env, MOTION_LORA_REGISTRY: registry.url, MOTION_LORA_TOKEN: key.token },
    stdio: "inherit",
  });
  child.on("exit", resolve);
});
await registry.stop();
if (code === 0) console.error("done: the generated clip is in examples/out/quickstart.gif; `npm start` serves the same data");
process.exitCode = code ?? 1;
