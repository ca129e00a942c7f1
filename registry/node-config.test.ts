import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { ConfigError } from "./config-overrides.ts";
import { defaultConfig } from "./config.ts";
import { startRegistry } from "./node.ts";

const run = promisify(execFile);
const bin = new URL("../bin/motion-lora.js", import.meta.url).pathname;

/** `registry start` as an operator runs it; a registry that starts anyway is killed after 20 s and fails the test. */
const start = (home: string, args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [bin, "registry", "start", "--runner", "off", "--port", "0", "--log", "json", ...args], {
    env: { ...process.env, MOTION_LORA_HOME: home, MOTION_LORA_CONFIG: "", ...env },
    timeout: 20_000,
  }).then(
    () => ({ code: 0, stderr: "" }),
    (e: { code: number | null; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );

const BAD = JSON.stringify({ anonymousRateLimitPerMinute: 0, trustedProxies: ["10.0.0.0/33"], failedAuthPerMinut: 5, webhooks: { maxAttempts: "3" } });
const NAMED = [
  /anonymousRateLimitPerMinute: /,
  /trustedProxies\.0: expected an IP address or a CIDR/,
  /Unrecognized key.*"failedAuthPerMinut"/,
  /webhooks\.maxAttempts: .*number/,
];

describe("the Node registry's operator settings (MOTION_LORA_CONFIG, --config FILE)", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "motion-lora-config-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("refuses a bad config at start-up with exit code 2, naming each wrong field, and touches nothing stored", async () => {
    const file = join(dir, "bad.json");
    await writeFile(file, BAD);
    const fresh = join(dir, "fresh-home");
    const byFile = await start(fresh, ["--config", file]);
    assert.equal(byFile.code, 2, byFile.stderr);
    for (const field of NAMED) assert.match(byFile.stderr, field);
    assert.match(byFile.stderr, new RegExp(`${file}: `), "it says which file");
    assert.equal(existsSync(fresh), false, "no home, database or blob folder was made");

    // A home in use: its files stay byte for byte as they were.
    const home = join(dir, "home");
    const r = await startRegistry({ home, port: 0, log: () => {}, env: {} });
    await r.stop();
    const snapshot = () =>
      (readdirSync(home, { recursive: true }) as string[]).sort().map((f) => [
        f,
        statSync(join(home, f)).isFile()
          ? createHash("sha256")
              .update(readFileSync(join(home, f)))
              .digest("hex")
          : "folder",
      ]);
    const before = snapshot();
    const byEnv = await start(home, [], { MOTION_LORA_CONFIG: BAD });
    assert.equal(byEnv.code, 2, byEnv.stderr);
    for (const field of NAMED) assert.match(byEnv.stderr, field);
    assert.match(byEnv.stderr, /MOTION_LORA_CONFIG: /);
    assert.deepEqual(snapshot(), before);
  });

  it("applies MOTION_LORA_CONFIG or a --config file over the defaults, nested fields one by one", async () => {
    const json = JSON.stringify({ anonymousRateLimitPerMinute: 2, trustedProxies: ["10.0.0.0/8"], webhooks: { maxAttempts: 2 } });
    const file = join(dir, "good.json");
    await writeFile(file, json);
    for (const source of [{ env: { MOTION_LORA_CONFIG: json } }, { configFile: file, env: {} }]) {
      const r = await startRegistry({ home: join(dir, "good-home"), port: 0, log: () => {}, ...source });
      try {
        assert.deepEqual(r.services.config.trustedProxies, ["10.0.0.0/8"]);
        assert.deepEqual(r.services.config.webhooks, { ...defaultConfig.webhooks, maxAttempts: 2 });
        const statuses = [];
        for (let i = 0; i < 3; i++) statuses.push((await fetch(`${r.url}/v1/loras`)).status);
        assert.deepEqual(statuses, [200, 200, 429], "the anonymous limit of 2 a minute holds");
      } finally {
        await r.stop();
      }
    }
    await assert.rejects(
      startRegistry({ home: join(dir, "good-home"), port: 0, log: () => {}, configFile: file, env: { MOTION_LORA_CONFIG: json } }),
      (e: unknown) => e instanceof ConfigError && /one of them/.test(e.message),
    );
  });
});
