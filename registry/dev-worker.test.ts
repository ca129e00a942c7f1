import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { BIN, node, type Proc } from "../test/helpers/processes.ts";

const run = promisify(execFile);
const SCRIPT = new URL("./worker-local.ts", import.meta.url).pathname;

/** `npm run dev:worker` as a user runs it: the Worker build under workerd, on a fresh home. */
describe("npm run dev:worker", () => {
  let home: string;
  let dev: Proc;
  let url: string;
  let runnerToken: string;
  let adminToken: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), "motion-lora-dev-worker-"));
    dev = node(["--import", "tsx", SCRIPT], { MOTION_LORA_HOME: home, PORT: "0" });
    adminToken = /(mlk_\S+)/.exec(await dev.waitFor(/admin key for this local Worker/, 120_000))![1]!;
    const attach = await dev.waitFor(/runner start --registry/);
    const m = /MOTION_LORA_TOKEN=(mlk_\S+) npx motion-lora runner start --registry (\S+)/.exec(attach)!;
    runnerToken = m[1]!;
    url = m[2]!;
  });
  after(async () => {
    dev.child.kill("SIGTERM");
    await dev.exited;
    await rm(home, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, token: string, json?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(json ? { "content-type": "application/json" } : {}) },
      ...(json ? { body: JSON.stringify(json) } : {}),
    });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  };

  it("prints at start how to attach a runner, with a runner key that works; a queued job says no runner is connected until one polls", async () => {
    assert.ok(dev.lines.some((l) => /jobs wait as "queued" \(no runner connected\) until one is attached/.test(l)));
    const job = await call("POST", "/v1/jobs", adminToken, { kind: "generate", input: { prompt: "a red circle on a navy background" } });
    assert.equal(job.status, 201);
    assert.deepEqual(job.body.queue, { position: 1, runners: 0, runner_on_demand: null }, "a local Worker asks no platform for a runner");
    // The printed runner key: a runner that takes only tunes polls once and finds nothing for it.
    const poll = await call("POST", "/v1/runner/claim", runnerToken, { runner_id: "dev-runner", kinds: ["tune"] });
    assert.equal(poll.status, 204);
    assert.deepEqual((await call("GET", `/v1/jobs/${job.body.id}`, adminToken)).body.queue, { position: 1, runners: 1, runner_on_demand: null });
    // The idle poll is not logged; other requests are.
    await call("GET", "/v1/me", adminToken);
    await dev.waitFor(/"route":"\/v1\/me"/, 10_000);
    assert.ok(!dev.lines.some((l) => l.includes("/v1/runner/claim")), "an idle poll is debug, left out of the log");
    assert.ok(
      dev.lines.some((l) => l.includes('"route":"/v1/jobs"')),
      "a job's creation is logged",
    );
  });

  it("keys create --worker makes a key in the running Worker's D1, which it accepts at once", async () => {
    const { stdout } = await run(process.execPath, [BIN, "keys", "create", "--worker", "--owner", "carol", "--json"], {
      env: { ...process.env, MOTION_LORA_HOME: home },
    });
    const key = JSON.parse(stdout);
    assert.equal(key.owner, "carol");
    const me = await call("GET", "/v1/me", key.token);
    assert.equal(me.status, 200);
    assert.equal(me.body.owner, "carol");
    const { stdout: list } = await run(process.execPath, [BIN, "keys", "list", "--worker"], { env: { ...process.env, MOTION_LORA_HOME: home } });
    assert.match(list, /carol/);
  });
});
