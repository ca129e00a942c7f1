// Headless Chromium for the tests (Debian's, driven by playwright-core): where it is, when a test
// skips for want of it, how it starts, and the browser example run against a registry.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

/** Debian's Chromium, when installed. */
export const chromiumPath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

/** A browser test's `skip`: only outside CI, which must have Chromium (.ci/run installs it). */
export const withoutChromium =
  !chromiumPath && !process.env.CI ? "Chromium is not installed here (CI installs Debian's chromium package; apt-get install chromium)" : false;

/** Starts headless Chromium, failing with the reason when it is missing. */
export async function launchChromium() {
  if (!chromiumPath) throw new Error("Chromium is not installed (apt-get install chromium); CI must have it");
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] });
}

export interface PageResult {
  state: string | null;
  text: string;
  /** The generated GIF's decoded width in the page's <img>. */
  gifWidth: number;
  errors: string[];
}

/** Serves index.html and `dir`/main.js on 127.0.0.1, opens it with `params`, and waits for the page's result. */
export async function runBrowserExample(dir: string, params: Record<string, string>): Promise<PageResult> {
  const page = await readFile(new URL("../../examples/browser/index.html", import.meta.url));
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url!, "http://x").pathname;
    if (path === "/" || path === "/index.html") return res.writeHead(200, { "content-type": "text/html" }).end(page);
    if (path === "/main.js") return res.writeHead(200, { "content-type": "text/javascript" }).end(await readFile(join(dir, "main.js")));
    res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const browser = await launchChromium();
  try {
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on("pageerror", (e) => errors.push(String(e)));
    await tab.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/?${new URLSearchParams(params)}`);
    await tab.waitForSelector("#result:not([data-state=pending])", { timeout: 120_000 });
    return {
      state: await tab.getAttribute("#result", "data-state"),
      text: (await tab.textContent("#result")) ?? "",
      gifWidth: await tab.evaluate(() => (document.getElementById("clip") as HTMLImageElement).naturalWidth),
      errors,
    };
  } finally {
    await browser.close();
    server.close();
  }
}
