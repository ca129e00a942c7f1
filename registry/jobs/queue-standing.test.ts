// A queued job's standing (QueueState) says whether a runner will come: 0 runners connected reads as
// "nothing will run it" only where the registry starts none. Under `npm start` the registry starts a
// local runner on demand; with a runner webhook (Node's --runner webhook, a Worker's
// RUNNER_WEBHOOK_URL) it asks a platform for one; otherwise someone must start one.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { MotionLora } from "../../sdk/client/client.ts";
import { onlyOn, startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";

const PROMPT = "a red circle on a navy background";

/** Creates a generate job and reads its standing as the reply, GET, the list and the event stream give it. */
async function standings(r: TestRegistry, token: string) {
  const created = await r.call("POST", "/v1/jobs", { token, json: { kind: "generate", input: { prompt: PROMPT, options: { steps: 2 } } } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id as string;
  const got = (await r.call("GET", `/v1/jobs/${id}`, { token })).body;
  const listed = (await r.call("GET", "/v1/jobs?status=queued", { token })).body.data.find((j: { id: string }) => j.id === id);
  return { id, created: created.body.queue, got: got.queue, listed: listed?.queue };
}

/** The first queued status event of a job's stream that carries its standing. */
async function streamedQueue(r: TestRegistry, token: string, id: string) {
  const ctl = new AbortController();
  const res = await fetch(`${r.url}/v1/jobs/${id}/events`, { headers: { authorization: `Bearer ${token}` }, signal: ctl.signal });
  const reader = res.body!.getReader();
  let text = "";
  try {
    for (let i = 0; i < 200; i++) {
      const m = /event: status\ndata: (\{.*"queue".*\})\n/.exec(text);
      if (m) return (JSON.parse(m[1]!) as { data: { queue: unknown } }).data.queue;
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    throw new Error(`no queued status event with a standing: ${text}`);
  } finally {
    ctl.abort();
    await reader.cancel().catch(() => {});
  }
}

describe("a queued job's standing says whether the registry starts a runner", () => {
  it("where it starts none (Node's --runner off; a Worker without RUNNER_WEBHOOK_URL): no runner connected, runner_on_demand null", async () => {
    const r = await startTestRegistry();
    try {
      const token = await r.key("alice");
      const s = await standings(r, token);
      const none = { position: 1, runners: 0, runner_on_demand: null };
      assert.deepEqual([s.created, s.got, s.listed], [none, none, none]);
      assert.deepEqual(await streamedQueue(r, token, s.id), none);
    } finally {
      await r.stop();
    }
  });

  it("where it asks a platform for one (runner.needed): runner_on_demand 'webhook' in the reply, GET, the list and the stream, and the platform is asked", async () => {
    const asked: Record<string, unknown>[] = [];
    const platform = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c));
      req.on("end", () => {
        asked.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((ok) => platform.listen(0, "127.0.0.1", ok));
    const r = await startTestRegistry({}, { runnerWebhookUrl: `http://127.0.0.1:${(platform.address() as AddressInfo).port}/start` });
    try {
      const token = await r.key("alice");
      const s = await standings(r, token);
      const asking = { position: 1, runners: 0, runner_on_demand: "webhook" };
      assert.deepEqual([s.created, s.got, s.listed], [asking, asking, asking]);
      assert.deepEqual(await streamedQueue(r, token, s.id), asking);
      for (let i = 0; i < 100 && asked.length === 0; i++) await new Promise((ok) => setTimeout(ok, 50));
      assert.equal(asked[0]?.type, "runner.needed", "the standing is honest: the platform was asked");
      // The SDK's parse of it keeps the field.
      const job = await new MotionLora({ baseUrl: r.url, apiKey: token }).jobs.create({ kind: "generate", input: { prompt: PROMPT } });
      assert.deepEqual(job.queue, { position: 2, runners: 0, runner_on_demand: "webhook" });
    } finally {
      await r.stop();
      platform.close();
    }
  });

  it("under npm start (a local runner started on demand): 'local' while it starts, not 'no runner', and the runner it starts runs the job", async (t) => {
    if (onlyOn(t, "node", "a Worker starts no runner of its own")) return;
    const r = await startTestRegistry({}, { localRunner: true });
    try {
      const token = await r.key("alice");
      const s = await standings(r, token);
      const starting = { position: 1, runners: 0, runner_on_demand: "local" };
      assert.deepEqual(s.created, starting, "a fresh job: the registry is about to start a runner");
      const client = new MotionLora({ baseUrl: r.url, apiKey: token });
      const done = await client.jobs.wait(s.id, { signal: AbortSignal.timeout(120_000) });
      assert.equal(done.status, "succeeded", JSON.stringify(done.error));
      assert.ok(
        r.logs.some((l) => l.msg === "started a local runner"),
        "the local runner the standing promised",
      );
    } finally {
      await r.stop();
    }
  });
});
