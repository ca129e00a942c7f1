// Installing the repository: npm runs without warnings about our settings, and onnxruntime-node's
// postinstall, run with the environment .ci/run gives `npm ci`, skips its CUDA download. Any download
// attempt goes to a proxy on 127.0.0.1:9 (global-agent, which the script uses), so it fails at once
// and nothing leaves the machine.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ORT = dirname(createRequire(join(ROOT, "package.json")).resolve("onnxruntime-node/package.json"));
const NOWHERE = { GLOBAL_AGENT_HTTP_PROXY: "http://127.0.0.1:9", GLOBAL_AGENT_HTTPS_PROXY: "http://127.0.0.1:9" };

/** Runs onnxruntime-node's postinstall as npm would (its folder, no npm_* variables), with `env` added. */
async function postinstall(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|ONNXRUNTIME_)/i.test(k)));
  return run(process.execPath, ["script/install.js"], { cwd: ORT, env: { ...clean, ...NOWHERE, ...env }, timeout: 30_000 }).then(
    () => ({ code: 0, stderr: "" }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
}

describe("installing the repository", () => {
  it("npm prints no 'Unknown project config' warning", async () => {
    const { stderr } = await run("npm", ["config", "get", "fund"], { cwd: ROOT });
    assert.doesNotMatch(stderr, /Unknown (project|user|env|cli) config/);
  });

  it("npm ci in CI skips onnxruntime-node's CUDA download (ONNXRUNTIME_NODE_INSTALL from .ci/run)", async (t) => {
    if (process.platform !== "linux" || process.arch !== "x64") return t.skip("the CUDA download happens on linux/x64 only");
    const value = /^export ONNXRUNTIME_NODE_INSTALL=(\S+)$/m.exec(await readFile(join(ROOT, ".ci/run"), "utf8"))?.[1];
    assert.equal(value, "skip", ".ci/run exports ONNXRUNTIME_NODE_INSTALL=skip before npm ci");
    assert.deepEqual(await postinstall({ ONNXRUNTIME_NODE_INSTALL: value! }), { code: 0, stderr: "" }, "skipped: no connection tried");
    const without = await postinstall({});
    assert.notEqual(without.code, 0, "without it the script downloads");
    assert.match(without.stderr, /ECONNREFUSED 127\.0\.0\.1:9/, "it tried the (loopback) proxy");
  });
});
