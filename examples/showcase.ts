// The README's screenshots, from real LoRAs: one motion LoRA per category tuned on the bundled clips
// with the default recipe (through the SDK, on the embedded registry and its local CPU runner), then
// the gallery, a LoRA page and "Try it" captured in headless Chromium.
// Usage: npm run screenshots   (data in examples/out/showcase; a rerun keeps the LoRAs already tuned)
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createKey } from "../registry/auth/keys.ts";
import { startRegistry } from "../registry/node.ts";
import { MotionLora } from "../sdk/client/client.ts";

const SHOTS = new URL("../docs/screenshots/", import.meta.url).pathname;
const CLIPS = new URL("./clips/", import.meta.url).pathname;
const LORAS = [
  { clip: "single-object-1", name: "diamond-path", title: "Diamond path", category: "single-object" },
  { clip: "multiple-objects-1", name: "two-paths", title: "Two paths", category: "multiple-objects" },
  { clip: "camera-motion-1", name: "camera-pan", title: "Camera pan", category: "camera-motion" },
  { clip: "human-motion-1", name: "walk-cycle", title: "Walk cycle", category: "human-motion" },
] as const;

// Checked first: the screenshots need Debian's Chromium, and the tunes take an hour.
const chromiumPath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
if (!chromiumPath) throw new Error("npm run screenshots needs Chromium: apt-get install chromium");
const captions = JSON.parse(await readFile(join(CLIPS, "captions.json"), "utf8")) as Record<string, string>;
// The snippets on the pages name the address `npm start` serves, not this run's ephemeral port.
const registry = await startRegistry({
  home: "examples/out/showcase",
  runner: "local",
  port: 0,
  log: () => {},
  config: { publicUrl: "http://127.0.0.1:8787" },
});
try {
  const key = await createKey(registry.services.db, { owner: "showcase", name: "npm run screenshots", scopes: ["read", "write"] }, 100_000);
  const client = new MotionLora({ baseUrl: registry.url, apiKey: key.token });
  for (const l of LORAS) {
    const have = await client.loras.get(`showcase/${l.name}`).catch(() => null);
    if (have?.latest_version) continue;
    const t0 = performance.now();
    console.error(`tuning showcase/${l.name} on examples/clips/${l.clip}.png (the default recipe)…`);
    await client.tune({
      video: new Uint8Array(await readFile(join(CLIPS, `${l.clip}.png`))),
      prompt: captions[l.clip]!,
      lora: `showcase/${l.name}`,
      create: { title: l.title, category: l.category, description: `Tuned on the bundled clip examples/clips/${l.clip}.png with the default recipe.` },
    });
    console.error(`  done in ${((performance.now() - t0) / 60_000).toFixed(1)} min`);
  }

  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] });
  try {
    const tab = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    const loaded = () => tab.waitForFunction(() => [...document.querySelectorAll("img")].every((i) => (i as HTMLImageElement).complete));
    await tab.goto(`${registry.url}/`);
    await loaded();
    await tab.screenshot({ path: `${SHOTS}gallery.png` });
    await tab.goto(`${registry.url}/loras/showcase/${LORAS[0].name}`);
    await loaded();
    await tab.screenshot({ path: `${SHOTS}lora.png`, fullPage: true });
    await tab.fill("#try-token", key.token);
    await tab.fill("#try-prompt", "a big yellow star on a checkered teal background");
    await tab.click("#try-go");
    await tab.waitForSelector("#try:not([data-state=running]):not([data-state=idle])", { timeout: 300_000 });
    await tab.screenshot({ path: `${SHOTS}try-it.png` });
  } finally {
    await browser.close();
  }
  console.error(`screenshots in ${SHOTS}`);
} finally {
  await registry.stop();
}
