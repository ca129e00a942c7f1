import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { after, before, describe, it } from "node:test";
import { GIF, loraFile, sha256 } from "../../test/helpers/lora-file.ts";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";
import { jobs, loraVersions } from "../db/schema.ts";

describe("jobs and the runner queue", () => {
  let r: TestRegistry;
  let alice: string;
  let bob: string;
  let runner: string;
  let videoSha: string;
  before(async () => {
    r = await startTestRegistry({ maxAttempts: 2 });
    alice = await r.key("alice");
    bob = await r.key("bob");
    runner = await r.key("runner", ["runner"]);
    await r.call("POST", "/v1/loras", { token: alice, json: { name: "walk", title: "Walk", category: "human-motion" } });
    videoSha = await sha256(GIF);
    await r.call("PUT", `/v1/blobs/${videoSha}?kind=video`, { token: alice, body: GIF as BodyInit });
  });
  after(() => r.stop());

  const tune = (extra: Record<string, unknown> = {}, headers: Record<string, string> = {}, token = alice) =>
    r.call("POST", "/v1/jobs", {
      token,
      headers,
      json: { kind: "tune", input: { video_sha256: videoSha, prompt: "a red person walking on a teal background", lora: "alice/walk", ...extra } },
    });
  const claim = (runnerId = "r1", lease = 60) => r.call("POST", "/v1/runner/claim", { token: runner, json: { runner_id: runnerId, lease_seconds: lease } });
  const expireLease = (id: string) =>
    r.services.db
      .update(jobs)
      .set({ leaseExpiresAt: Date.now() - 1 })
      .where(eq(jobs.id, id));
  const drain = async () => {
    for (;;) {
      const c = await claim("drainer");
      if (c.status === 204) return;
      await r.call("POST", `/v1/jobs/${c.body.job.id}/fail`, {
        token: runner,
        json: { lease_token: c.body.lease_token, error: { code: "runner_error", message: "drained" } },
      });
    }
  };

  it("makes one job per Idempotency-Key, and 409s the same key with another body", async () => {
    const a = await tune({}, { "idempotency-key": "k1" });
    assert.equal(a.status, 201);
    const b = await tune({}, { "idempotency-key": "k1" });
    assert.equal(b.status, 200);
    assert.equal(b.body.id, a.body.id);
    const c = await tune({ prompt: "a red person jumping on a teal background" }, { "idempotency-key": "k1" });
    assert.equal(c.status, 409);
    assert.equal(c.body.error.code, "idempotency_conflict");
    // Keys are per owner.
    await r.call("POST", "/v1/loras", { token: bob, json: { name: "walk", title: "Walk", category: "human-motion" } });
    await r.call("PUT", `/v1/blobs/${videoSha}?kind=video`, { token: bob, body: GIF as BodyInit });
    const d = await r.call("POST", "/v1/jobs", {
      token: bob,
      headers: { "idempotency-key": "k1" },
      json: { kind: "tune", input: { video_sha256: videoSha, prompt: "a red person walking on a teal background", lora: "bob/walk" } },
    });
    assert.equal(d.status, 201);
    await drain();
  });

  it("validates job input: the target LoRA must be yours, the video must exist", async () => {
    assert.equal((await tune({ lora: "bob/walk" })).status, 403);
    const missing = await tune({ video_sha256: "e".repeat(64) });
    assert.equal(missing.status, 422);
    assert.equal(missing.body.error.code, "blob_missing");
    const unknown = await tune({ steps: 5 });
    assert.equal(unknown.status, 422);
    assert.match(unknown.body.error.message, /unknown field/);
    const kind = await r.call("POST", "/v1/jobs", { token: alice, json: { kind: "train", input: {} } });
    assert.equal(kind.status, 422);
    const gen = await r.call("POST", "/v1/jobs", {
      token: alice,
      json: { kind: "generate", input: { prompt: "a red circle on a black background", loras: [{ ref: "alice/walk@9" }] } },
    });
    assert.equal(gen.status, 404);
    assert.match(gen.body.error.message, /input\.loras\.0/);
  });

  it("refuses at creation an admin's tune job into another owner's LoRA (403 tune_target_not_owned): its result could never be published", async () => {
    const into = await tune({}, {}, r.admin);
    assert.equal(into.status, 403, JSON.stringify(into.body));
    assert.equal(into.body.error.code, "tune_target_not_owned");
    assert.match(
      into.body.error.message,
      /^input\.lora: a tune job publishes into a LoRA of its own owner 'admin', not 'alice'; tune into 'admin\/walk', then publish/,
    );
    const creating = await tune({ lora: "bob/fresh", create: { title: "Fresh", category: "single-object" } }, {}, r.admin);
    assert.equal(creating.body.error.code, "tune_target_not_owned", "nor one that would create it");
    assert.equal((await r.call("GET", "/v1/jobs", { token: r.admin })).body.data.length, 0, "no job was queued");
  });

  it("refuses at creation, naming the limit, what the model's runner could never do: rank past its slots, sparse frames its graph does not take, more LoRAs than it applies", async () => {
    const before = (await r.call("GET", "/v1/jobs", { token: alice })).body.data.length;
    const rank = await tune({ options: { rank: 16 } });
    assert.equal(rank.status, 422, JSON.stringify(rank.body));
    assert.equal(rank.body.error.code, "unsupported_option");
    assert.match(rank.body.error.message, /^input\.options\.rank: this model's LoRA slots hold rank ≤ 8; got 16/);
    const frames = await tune({ options: { sparse_frames: 8 } });
    assert.equal(frames.body.error.code, "unsupported_option");
    assert.match(frames.body.error.message, /takes 4 frames; leave it out or set 4/);
    assert.equal((await tune({ options: { rank: 8, sparse_frames: 4 } })).status, 201, "the model's own limits pass");
    const three = await r.call("POST", "/v1/jobs", {
      token: alice,
      json: { kind: "generate", input: { prompt: "a red person walking on a teal background", loras: ["a", "b", "c"].map((n) => ({ ref: `alice/${n}` })) } },
    });
    assert.equal(three.status, 422);
    assert.equal(three.body.error.code, "too_many_loras");
    assert.match(three.body.error.message, /at most 2 LoRAs at once; got 3/);
    assert.equal((await r.call("GET", "/v1/jobs", { token: alice })).body.data.length, before + 1, "only the job that fits was queued");
    await drain();
  });

  it("gives each job to exactly one of many concurrent runners", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 8; i++)
      ids.add((await tune({ prompt: `a ${["red", "green", "blue", "yellow", "cyan", "magenta", "white", "orange"][i]} person on a navy background` })).body.id);
    const claims = await Promise.all(Array.from({ length: 24 }, (_, i) => claim(`runner-${i % 3}`)));
    const got = claims.filter((c) => c.status === 200).map((c) => c.body.job.id);
    assert.equal(got.length, 8);
    assert.deepEqual(new Set(got), ids);
    assert.equal(claims.filter((c) => c.status === 204).length, 16);
    await Promise.all(
      claims
        .filter((c) => c.status === 200)
        .map((c) =>
          r.call("POST", `/v1/jobs/${c.body.job.id}/fail`, {
            token: runner,
            json: { lease_token: c.body.lease_token, error: { code: "runner_error", message: "done" } },
          }),
        ),
    );
  });

  it("requeues a job whose lease expired and refuses the old runner's result (409, not applied)", async () => {
    const job = (await tune({ prompt: "a red person waving on a teal background" })).body;
    const first = await claim("slow");
    assert.equal(first.body.job.id, job.id);
    await expireLease(job.id);
    const second = await claim("fast");
    assert.equal(second.body.job.id, job.id);
    assert.equal(second.body.job.attempts, 2);

    const fileSha = await sha256(loraFile());
    await r.call("PUT", `/v1/blobs/${fileSha}?kind=lora`, { token: runner, body: loraFile() as BodyInit });
    const stale = await r.call("POST", `/v1/jobs/${job.id}/complete`, {
      token: runner,
      json: { lease_token: first.body.lease_token, result: { lora_sha256: fileSha, blobs: [{ sha256: fileSha, kind: "lora" }] } },
    });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.error.code, "lease_lost");
    const hb = await r.call("POST", `/v1/jobs/${job.id}/heartbeat`, { token: runner, json: { lease_token: first.body.lease_token, progress: 0.5 } });
    assert.equal(hb.status, 409);
    const now = (await r.call("GET", `/v1/jobs/${job.id}`, { token: alice })).body;
    assert.equal(now.status, "running");
    assert.equal(now.result, null);
    assert.equal((await r.services.db.select().from(loraVersions).where(eq(loraVersions.jobId, job.id))).length, 0);

    // The live runner completes; a retried completion is idempotent and publishes one version.
    const done = await r.call("POST", `/v1/jobs/${job.id}/complete`, {
      token: runner,
      json: { lease_token: second.body.lease_token, result: { lora_sha256: fileSha, blobs: [{ sha256: fileSha, kind: "lora" }], metrics: { loss: 0.1 } } },
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.status, "succeeded");
    assert.ok(done.body.version_id);
    const again = await r.call("POST", `/v1/jobs/${job.id}/complete`, {
      token: runner,
      json: { lease_token: second.body.lease_token, result: { lora_sha256: fileSha, blobs: [{ sha256: fileSha, kind: "lora" }], metrics: { loss: 0.1 } } },
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.version_id, done.body.version_id);
    assert.equal((await r.services.db.select().from(loraVersions).where(eq(loraVersions.jobId, job.id))).length, 1);
    const version = await r.call("GET", "/v1/loras/alice/walk/versions/latest");
    assert.equal(version.body.job_id, job.id);
    assert.equal(version.body.reference_video_sha256, videoSha);
  });

  it("fails a job for good after max attempts, keeping the reason", async () => {
    const job = (await tune({ prompt: "a red person dancing on a teal background" })).body;
    for (let i = 0; i < 2; i++) {
      assert.equal((await claim()).body.job.id, job.id);
      await expireLease(job.id);
    }
    await r.services.jobs.leases.reap();
    const now = (await r.call("GET", `/v1/jobs/${job.id}`, { token: alice })).body;
    assert.equal(now.status, "failed");
    assert.equal(now.error.code, "lease_expired");
    assert.match(now.error.message, /2 attempts/);
    const polls = () => r.logs.filter((l) => l.route === "/v1/runner/claim");
    const before = polls().length;
    assert.equal((await claim()).status, 204);
    // Node's log filters by level (registry/cli/log.ts); the Worker leaves debug records out unless LOG_LEVEL=debug.
    if (r.target === "node") assert.equal(polls().at(-1)?.level, "debug", "an idle long-poll logs at debug level");
    else assert.equal(polls().length, before, "the Worker does not log an idle long-poll (registry/dev-worker.test.ts waits for a later line)");
    assert.equal(r.logs.findLast((l) => l.route === "/v1/jobs/:id")?.level, "info");
  });

  it("rejects a tune result that is not a valid LoRA and leaves the job running", async () => {
    const job = (await tune({ prompt: "a small red star on a navy background" })).body;
    const c = await claim();
    const bad = loraFile({ stage: "sideways" });
    const badSha = await sha256(bad);
    await r.call("PUT", `/v1/blobs/${badSha}?kind=lora`, { token: runner, body: bad as BodyInit });
    const res = await r.call("POST", `/v1/jobs/${job.id}/complete`, {
      token: runner,
      json: { lease_token: c.body.lease_token, result: { lora_sha256: badSha, blobs: [{ sha256: badSha, kind: "lora" }] } },
    });
    assert.equal(res.status, 422);
    assert.equal((await r.call("GET", `/v1/jobs/${job.id}`, { token: alice })).body.status, "running");
    const unknown = await r.call("POST", `/v1/jobs/${job.id}/fail`, {
      token: runner,
      json: { lease_token: c.body.lease_token, error: { code: "bad_output", message: "retry" }, retryable: true },
    });
    assert.equal(unknown.status, 200, "a failure is never refused for its code");
    assert.equal(unknown.body.status, "queued", "retryable, attempts left");
    const again = await claim();
    assert.equal(again.body.job.id, job.id);
    const final = await r.call("POST", `/v1/jobs/${job.id}/fail`, {
      token: runner,
      json: { lease_token: again.body.lease_token, error: { code: "bad_output", message: "gave up" }, retryable: false },
    });
    assert.equal(final.body.status, "failed");
    assert.deepEqual(
      final.body.error,
      { code: "runner_error", message: "the runner reported 'bad_output': gave up" },
      "an unknown code is filed under runner_error",
    );
    await drain();
  });

  it("cancels: the runner's next heartbeat says stop", async () => {
    const job = (await tune({ prompt: "a big red star on a navy background" })).body;
    const c = await claim();
    assert.equal((await r.call("POST", `/v1/jobs/${job.id}/cancel`, { token: bob })).status, 404);
    const canceled = await r.call("POST", `/v1/jobs/${job.id}/cancel`, { token: alice });
    assert.equal(canceled.body.status, "canceled");
    const hb = await r.call("POST", `/v1/jobs/${job.id}/heartbeat`, { token: runner, json: { lease_token: c.body.lease_token, progress: 0.2 } });
    assert.equal(hb.status, 409);
    assert.equal(hb.body.error.code, "job_not_active");
    assert.equal((await r.call("POST", `/v1/jobs/${job.id}/cancel`, { token: alice })).status, 200);
  });

  it("streams status and progress events over SSE, one per heartbeat (its log line on the progress event), and resumes after Last-Event-ID", async () => {
    const job = (await tune({ prompt: "a white person on a gray background" })).body;
    const c = await claim();
    const stream = readEvents(r.url, job.id, alice);
    await r.call("POST", `/v1/jobs/${job.id}/heartbeat`, {
      token: runner,
      json: { lease_token: c.body.lease_token, progress: 0.5, stage: "spatial", message: "step 10/20 loss 0.12", eta_seconds: 41.6 },
    });
    const fileSha = await sha256(loraFile({ alpha: "3" }));
    await r.call("PUT", `/v1/blobs/${fileSha}?kind=lora`, { token: runner, body: loraFile({ alpha: "3" }) as BodyInit });
    await r.call("POST", `/v1/jobs/${job.id}/complete`, {
      token: runner,
      json: { lease_token: c.body.lease_token, result: { lora_sha256: fileSha, blobs: [{ sha256: fileSha, kind: "lora" }] } },
    });
    const events = await stream;
    assert.deepEqual(
      events.map((e) => e.event),
      ["status", "status", "progress", "status"],
    );
    assert.deepEqual(
      events.map((e) => Number(e.id)),
      [1, 2, 3, 4],
    );
    assert.deepEqual(
      JSON.parse(events[2]!.data).data,
      { progress: 0.5, stage: "spatial", eta_seconds: 42, message: "step 10/20 loss 0.12" },
      "the runner's estimate and log line ride on the progress event",
    );
    assert.equal(JSON.parse(events[3]!.data).data.status, "succeeded");
    const resumed = await readEvents(r.url, job.id, alice, "2");
    assert.deepEqual(
      resumed.map((e) => e.id),
      ["3", "4"],
    );
    const other = await fetch(`${r.url}/v1/jobs/${job.id}/events`, { headers: { authorization: `Bearer ${bob}` } });
    assert.equal(other.status, 404);
  });
  it("delivers to an open stream, within about a second, an event another instance appended", async () => {
    const job = (await tune({ prompt: "a white person on a gray background" })).body;
    const res = await fetch(`${r.url}/v1/jobs/${job.id}/events`, { headers: { authorization: `Bearer ${alice}` }, signal: AbortSignal.timeout(10_000) });
    const reader = res.body!.getReader();
    const seen = async (text: string) => {
      let got = "";
      while (!got.includes(text)) got += new TextDecoder().decode((await reader.read()).value);
    };
    await seen("event: status");
    // r.services shares the registry's database but not its memory (on workerd it is another
    // process): like a second Node process, or another Worker isolate, it wakes no one there.
    const t0 = Date.now();
    await r.services.events.append(job.id, "log", { message: "from another instance" });
    await seen("from another instance");
    assert.ok(Date.now() - t0 < 2_500, `seen after ${Date.now() - t0} ms`);
    await reader.cancel();
  });

  it("long-polls a claim: answers as soon as a job is queued, or 204 when the wait ends", async () => {
    await drain();
    const t0 = Date.now();
    const empty = await r.call("POST", "/v1/runner/claim", { token: runner, json: { runner_id: "lp", wait_seconds: 1 } });
    assert.equal(empty.status, 204);
    assert.ok(Date.now() - t0 >= 900, `waited ${Date.now() - t0} ms`);
    const waiting = r.call("POST", "/v1/runner/claim", { token: runner, json: { runner_id: "lp", wait_seconds: 10 } });
    await new Promise((ok) => setTimeout(ok, 200));
    // The supervisor's liveness count lives in the Node registry's memory (Workers ask by webhook instead).
    if (r.target === "node") assert.equal(r.services.jobs.leases.pollers, 1, "the waiting runner counts as alive");
    const t1 = Date.now();
    const job = await tune();
    const got = await waiting;
    assert.equal(got.status, 200);
    assert.equal(got.body.job.id, job.body.id);
    assert.ok(Date.now() - t1 < 500, `picked up ${Date.now() - t1} ms after the job was queued`);
  });
});

/** Reads a job's SSE stream to its end. */
async function readEvents(url: string, id: string, token: string, lastEventId?: string) {
  const res = await fetch(`${url}/v1/jobs/${id}/events`, {
    headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((block) => block.trim() && !block.startsWith(":"))
    .map(
      (block) =>
        Object.fromEntries(block.split("\n").map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)])) as {
          id: string;
          event: string;
          data: string;
        },
    );
}
