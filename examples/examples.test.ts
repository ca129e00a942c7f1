// CI runs every example against a real embedded registry (with its local CPU runner started on
// demand): the Node ones as processes, the browser one in headless Chromium.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cli, type Proc } from "../test/helpers/processes.ts";
import { buildBrowserExample } from "./browser/build.ts";
import { chromiumPath, runBrowserExample, withoutChromium } from "../test/helpers/browser.ts";

const SMALL = { SPATIAL_STEPS: "4", TEMPORAL_STEPS: "8", STEPS: "4" };
let home = "";
let registry: Proc;
let url = "";
const tokens: string[] = [];

async function key(owner: string) {
  const p = cli(["keys", "create", "--owner", owner, "--json"], { MOTION_LORA_HOME: home });
  await p.exited;
  return JSON.parse(p.lines.find((l) => l.startsWith("{"))!).token as string;
}

function example(file: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", new URL(file, import.meta.url).pathname], {
      env: { ...process.env, ...SMALL, MOTION_LORA_REGISTRY: url, MOTION_LORA_TOKEN: tokens[0]!, MOTION_LORA_TOKEN_2: tokens[1]!, EXAMPLES_OUT: home, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b));
    child.stderr.on("data", (b: Buffer) => (stderr += b));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

before(async () => {
  home = await mkdtemp(join(tmpdir(), "motion-lora-examples-"));
  tokens.push(await key("alice"), await key("bob"));
  // The runner it starts makes one transfer sample a tune (default 3): the examples do not look at them.
  registry = cli(["registry", "start", "--port", "0"], { MOTION_LORA_HOME: home, MOTION_LORA_SAMPLES: "1" });
  url = /listening on (\S+)/.exec(await registry.waitFor(/listening on/))![1]!;
});
after(async () => {
  registry.child.kill("SIGTERM");
  await registry.exited;
  await rm(home, { recursive: true, force: true });
});

describe("examples", () => {
  it("quickstart: tune, then generate with the motion LoRA (the registry starts its own runner)", async () => {
    const r = await example("quickstart.ts");
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    assert.equal(out.frames, 16);
    assert.ok((await stat(out.output)).size > 0);
    assert.ok(
      registry.lines.some((l) => l.includes("started a local runner")),
      "the registry started a runner on demand",
    );
  });

  it("share-a-lora: another user finds, pulls and uses a published LoRA", async () => {
    const r = await example("share-a-lora.ts");
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    assert.match(out.shared, /^alice\/person-moves@1$/);
  });

  it("compose: two motion LoRAs in one generation", async () => {
    const r = await example("compose.ts");
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    assert.equal(out.loras.length, 2);
  });

  it("browser: the SDK lists LoRAs and generates in headless Chromium", {
    skip: withoutChromium,
  }, async () => {
    assert.ok(chromiumPath, "CI must have Chromium: .ci/run installs Debian's chromium package");
    const dir = await mkdtemp(join(tmpdir(), "motion-lora-browser-"));
    try {
      await buildBrowserExample(dir);
      const page = await runBrowserExample(dir, {
        registry: url,
        token: tokens[1]!,
        lora: "alice/diamond-path",
        steps: "3",
        prompt: "a blue square on a black background",
      });
      assert.equal(page.state, "done", `${page.text} ${page.errors.join(" ")}`);
      const out = JSON.parse(page.text);
      assert.equal(out.frames, 16);
      assert.ok(out.listed >= 1 && out.gifBytes > 100);
      assert.equal(page.gifWidth, 128, "the GIF decodes in the browser");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
