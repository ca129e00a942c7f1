import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { MotionLora } from "../../sdk/client/client.ts";
import { Webhook } from "standardwebhooks";
import { verifyWebhook } from "../../sdk/webhooks/signature.ts";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";
import { defaultWebhookConfig } from "./config.ts";
import { checkWebhookUrl, isPrivateAddress } from "./url.ts";

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
}

let reg: TestRegistry;
let alice: MotionLora;
let aliceToken = "";
let runner: MotionLora;
let received: Received[] = [];
let failNext = 0;
const receiver = createServer((req, res) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += c));
  req.on("end", () => {
    received.push({ headers: req.headers, body });
    res.statusCode = failNext-- > 0 ? 500 : 204;
    res.end();
  });
});
let hookUrl = "";

before(async () => {
  await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  reg = await startTestRegistry({ webhooks: { ...defaultWebhookConfig, allowPrivate: true, baseDelayMs: 30, maxAttempts: 3 } });
  aliceToken = await reg.key("alice");
  alice = new MotionLora({ baseUrl: reg.url, apiKey: aliceToken });
  runner = new MotionLora({ baseUrl: reg.url, apiKey: await reg.key("runner-1", ["runner"]) });
});
after(async () => {
  await reg.stop();
  await new Promise<void>((ok) => receiver.close(() => ok()));
});

async function runJob(id: string) {
  const claim = (await runner.runner.claim({ runner_id: "r1" }))!;
  assert.equal(claim.job.id, id);
  await runner.runner.heartbeat(id, { lease_token: claim.lease_token, progress: 0.5, stage: "sampling" });
  const video = await runner.blobs.upload(new Uint8Array([9, 9, id.length]), "video");
  await runner.runner.complete(id, {
    lease_token: claim.lease_token,
    result: { video_sha256: video.sha256, blobs: [{ sha256: video.sha256, kind: "video" }] },
  });
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const deliveries = async (id: string) =>
  (await reg.call("GET", `/v1/jobs/${id}/webhooks`, { token: reg.admin })).body.data as {
    event: string;
    state: string;
    attempts: number;
    last_status: number | null;
  }[];

describe("job webhooks", () => {
  it("POSTs start, progress and completed, signed with the key's secret", async () => {
    received = [];
    const job = await alice.jobs.create({ kind: "generate", input: { prompt: "a red circle on a black background" }, webhook: hookUrl });
    await runJob(job.id);
    const log = await until(
      () => deliveries(job.id),
      (d) => d.length === 3 && d.every((x) => x.state === "delivered"),
    );
    assert.deepEqual(
      log.map((d) => [d.event, d.state, d.last_status]),
      [
        ["start", "delivered", 204],
        ["progress", "delivered", 204],
        ["completed", "delivered", 204],
      ],
    );
    const { secret } = (await reg.call("GET", "/v1/webhooks/secret", { token: aliceToken })).body;
    const done = received.find((r) => JSON.parse(r.body).type === "job.completed")!;
    assert.equal(JSON.parse(done.body).job.status, "succeeded");
    const headers = new Headers(done.headers as Record<string, string>);
    assert.ok(await verifyWebhook(secret, headers, done.body), "the signature verifies");
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{32}$/, "whsec_ + base64 of 24 bytes");
    // Any Standard Webhooks verifier accepts the delivery: here the spec's reference package.
    const headerObject = Object.fromEntries(["webhook-id", "webhook-timestamp", "webhook-signature"].map((h) => [h, headers.get(h)!]));
    assert.doesNotThrow(() => new Webhook(secret).verify(done.body, headerObject), "standardwebhooks verifies the delivery");
    assert.equal(await verifyWebhook(secret, headers, done.body.replace("succeeded", "failed")), false, "a tampered body does not");
    assert.equal(await verifyWebhook("whsec_other", headers, done.body), false, "another secret does not");
    const stale = Number(headers.get("webhook-timestamp")) + 3600;
    assert.equal(await verifyWebhook(secret, headers, done.body, 300, stale), false, "a replay an hour later is refused");
  });

  it("sends only the filtered events, and retries failures with backoff until delivered", async () => {
    received = [];
    failNext = 2;
    const job = await alice.jobs.create({
      kind: "generate",
      input: { prompt: "a blue star on a navy background" },
      webhook: hookUrl,
      webhook_events_filter: ["completed"],
    });
    await runJob(job.id);
    const log = await until(
      () => deliveries(job.id),
      (d) => d[0]?.state === "delivered",
    );
    assert.deepEqual(
      log.map((d) => [d.event, d.state, d.attempts]),
      [["completed", "delivered", 3]],
    );
    assert.equal(received.length, 3);
    assert.equal(new Set(received.map((r) => r.headers["webhook-id"])).size, 1, "retries keep the delivery id, so receivers can dedupe");
  });

  it("gives up after the configured attempts and says why in the delivery log", async () => {
    failNext = 100;
    const job = await alice.jobs.create({
      kind: "generate",
      input: { prompt: "a green square on a gray background" },
      webhook: hookUrl,
      webhook_events_filter: ["completed"],
    });
    await runJob(job.id);
    const log = await until(
      () => deliveries(job.id),
      (d) => d[0]?.state === "failed",
    );
    failNext = 0;
    assert.deepEqual(
      log.map((d) => [d.state, d.attempts, d.last_status]),
      [["failed", 3, 500]],
    );
  });

  it("refuses loopback and private targets unless configured to allow them", async () => {
    for (const url of [
      "http://127.0.0.1/x",
      "http://10.1.2.3/x",
      "http://localhost:8080/",
      "http://[::1]/",
      "http://169.254.169.254/latest",
      "http://192.168.0.10/",
    ]) {
      await assert.rejects(checkWebhookUrl(url, false, null), /local name|loopback or private/, url);
    }
    await assert.rejects(
      checkWebhookUrl("http://hooks.example.com/", false, async () => ["10.0.0.7"]),
      /resolves to 10\.0\.0\.7/,
    );
    assert.equal((await checkWebhookUrl("https://hooks.example.com/a", false, async () => ["93.184.216.34"])).host, "hooks.example.com");
    assert.equal(isPrivateAddress("8.8.8.8"), false);
    assert.equal(isPrivateAddress("::ffff:127.0.0.1"), true);
    const strict = await startTestRegistry();
    try {
      const res = await strict.call("POST", "/v1/jobs", {
        token: await strict.key("bob"),
        json: { kind: "generate", input: { prompt: "a red circle on a black background" }, webhook: "http://127.0.0.1:9/hook" },
      });
      assert.equal(res.status, 422);
      assert.match(res.body.error.message, /webhook: .*loopback or private/);
      const bad = await strict.call("POST", "/v1/jobs", {
        token: await strict.key("carol"),
        json: { kind: "generate", input: { prompt: "a red circle on a black background" }, webhook: "ftp://example.com/" },
      });
      assert.equal(bad.status, 422);
    } finally {
      await strict.stop();
    }
  });
});
