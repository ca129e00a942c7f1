import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { loraFile } from "../../test/helpers/lora-file.ts";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";
import { defaultConfig } from "../../registry/config.ts";
import { runners } from "../../registry/db/schema.ts";
import { encodeClipPng } from "../video/frames.ts";
import { MotionLora, nextProgress, type JobProgress } from "./client.ts";
import type { FitReport } from "../video/fit.ts";
import { sha256Hex } from "./digest.ts";
import { AuthenticationError, IntegrityError, JobFailedError, NotFoundError, PermissionDeniedError } from "./errors.ts";

const HOOK_HOST = "hooks.example.test";
const HOOK = `http://${HOOK_HOST}:9/hook`;

let reg: TestRegistry;
let alice: MotionLora;
let aliceKey: string;
before(async () => {
  // A webhook test names a host this resolver maps to loopback: no test traffic may leave the machine.
  reg = await startTestRegistry(
    { webhooks: { ...defaultConfig.webhooks, allowPrivate: true } },
    { resolveHost: async (host) => (host === HOOK_HOST ? ["127.0.0.1"] : []) },
  );
  aliceKey = await reg.key("alice");
  alice = new MotionLora({ baseUrl: reg.url, apiKey: aliceKey });
});
after(() => reg.stop());

describe("SDK client against a real registry", () => {
  it("creates, lists (across pages) and reads LoRAs, with typed errors", async () => {
    for (let i = 0; i < 5; i++) await alice.loras.create({ name: `wave-${i}`, title: `Wave ${i}`, category: "human-motion", tags: ["wave"] });
    const names = [];
    for await (const l of alice.loras.list({ q: "wave", limit: 2 })) names.push(l.name);
    assert.deepEqual(names.sort(), ["wave-0", "wave-1", "wave-2", "wave-3", "wave-4"]);
    assert.equal((await alice.loras.get("alice/wave-3")).title, "Wave 3");
    await assert.rejects(alice.loras.get("alice/nope"), NotFoundError);
    await assert.rejects(alice.loras.get("Bad Ref"), /must be 'owner\/name'/);
    await assert.rejects(new MotionLora({ baseUrl: reg.url, apiKey: "mlk_wrong" }).me(), AuthenticationError);
    const bob = new MotionLora({ baseUrl: reg.url, apiKey: await reg.key("bob", ["read"]) });
    await assert.rejects(bob.loras.create({ name: "x1", title: "x", category: "single-object" }), PermissionDeniedError);
  });

  it("uploads once by hash, publishes a version and downloads it verified", async () => {
    const file = loraFile();
    const first = await alice.blobs.upload(file, "lora");
    assert.equal(first.sha256, await sha256Hex(file));
    const again = await alice.blobs.upload(new Blob([file as Uint8Array<ArrayBuffer>]), "lora");
    assert.equal(again.created, false);
    const puts = reg.logs.filter((l) => l.method === "PUT" && String(l.path).includes(first.sha256));
    assert.equal(puts.length, 1, "the second upload sent no bytes");
    const v = await alice.versions.create("alice/wave-0", { file_sha256: first.sha256, notes: "first" });
    assert.equal(v.version, 1);
    const { bytes, version } = await alice.versions.download("alice/wave-0");
    assert.equal(version.id, v.id);
    assert.deepEqual(bytes, file);
  });

  it("publishes one version when the answer to a publish is lost and the SDK retries it, even with another publish in between", async () => {
    await alice.loras.create({ name: "dropped", title: "Dropped", category: "single-object" });
    const mine = await alice.blobs.upload(loraFile({ alpha: "3" }), "lora");
    const theirs = await alice.blobs.upload(loraFile({ alpha: "5" }), "lora");
    const keys: (string | undefined)[] = [];
    // A proxy on loopback that lets the registry publish, lets another publish land, then drops the answer.
    const proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !["host", "connection", "content-length"].includes(k))) as Record<
        string,
        string
      >;
      const upstream = await fetch(reg.url + req.url, { method: req.method!, headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
      const body = Buffer.from(await upstream.arrayBuffer());
      if (req.method === "POST" && req.url?.endsWith("/versions")) {
        keys.push(req.headers["idempotency-key"] as string | undefined);
        if (keys.length === 1) {
          await reg.call("POST", "/v1/loras/alice/dropped/versions", { token: aliceKey, json: { file_sha256: theirs.sha256, notes: "in between" } });
          return req.socket.destroy();
        }
      }
      // fetch has already decoded the body and framed it anew: its encoding and length headers no longer apply.
      const answer = [...upstream.headers].filter(([k]) => !["content-encoding", "content-length", "transfer-encoding", "connection"].includes(k));
      res.writeHead(upstream.status, Object.fromEntries(answer)).end(body);
    });
    await new Promise<void>((ok) => proxy.listen(0, "127.0.0.1", ok));
    try {
      const viaProxy = new MotionLora({ baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, apiKey: aliceKey, maxRetries: 2 });
      const v = await viaProxy.versions.create("alice/dropped", { file_sha256: mine.sha256, notes: "mine" });
      assert.equal(v.version, 1, "the retry answered with the version the lost answer carried");
      const all = [];
      for await (const x of alice.versions.list("alice/dropped")) all.push([x.version, x.notes]);
      assert.deepEqual(all, [
        [2, "in between"],
        [1, "mine"],
      ]);
      assert.equal(keys.length, 2, "the SDK retried once");
      assert.ok(keys[0] && keys[0] === keys[1], "with the same idempotency key");
    } finally {
      await new Promise<void>((ok) => proxy.close(() => ok()));
    }
  });

  it("refuses a download whose bytes do not match their sha256", async () => {
    const file = loraFile();
    const { sha256 } = await alice.blobs.upload(file, "lora");
    const tampering = new MotionLora({
      baseUrl: reg.url,
      apiKey: await reg.key("alice"),
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        if (!String(input).includes(`/blobs/${sha256}`) || String(input).endsWith("/info")) return res;
        const body = new Uint8Array(await res.arrayBuffer());
        body[body.length - 1]! ^= 1;
        return new Response(body, { status: res.status, headers: res.headers });
      },
    });
    await assert.rejects(tampering.blobs.download(sha256), IntegrityError);
  });

  it("follows a job over SSE, and by polling when the stream is unusable", async () => {
    const runner = new MotionLora({ baseUrl: reg.url, apiKey: await reg.key("runner-1", ["runner"]) });
    for (const breakStream of [false, true]) {
      const client = breakStream
        ? new MotionLora({
            baseUrl: reg.url,
            apiKey: await reg.key("alice"),
            // A buffering proxy: the event stream arrives as plain text.
            fetch: async (input, init) =>
              String(input).endsWith("/events") ? new Response("nope", { headers: { "content-type": "text/plain" } }) : fetch(input, init),
          })
        : alice;
      const job = await client.jobs.create({ kind: "generate", input: { prompt: "a red circle on a black background" } });
      const events: string[] = [];
      const waiting = client.jobs.wait(job.id, { pollMs: 50, onEvent: (e) => events.push(`${e.type}:${e.data.status ?? e.data.stage}`) });
      const claim = (await runner.runner.claim({ runner_id: "r1" }))!;
      assert.equal(claim.job.id, job.id);
      await runner.runner.heartbeat(job.id, { lease_token: claim.lease_token, progress: 0.5, stage: "sampling" });
      const video = await runner.blobs.upload(new Uint8Array([1, 2, 3]), "video");
      await runner.runner.complete(job.id, {
        lease_token: claim.lease_token,
        result: { video_sha256: video.sha256, blobs: [{ sha256: video.sha256, kind: "video" }] },
      });
      const done = await waiting;
      assert.equal(done.status, "succeeded");
      // A stream that opens while the job waits may also hear its place in line (another status:queued).
      const told = events.filter((e, i) => e !== events[i - 1]);
      if (!breakStream) assert.deepEqual(told, ["status:queued", "status:running", "progress:sampling", "status:succeeded"]);
      else assert.ok(events.length >= 1, "polling reports progress");
    }
  });

  it("cancels the job when the caller aborts, and reports a failed job as JobFailedError", async () => {
    const ctl = new AbortController();
    const job = await alice.jobs.create({ kind: "generate", input: { prompt: "a blue star on a navy background" } });
    const waiting = alice.jobs.wait(job.id, { signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error("user gave up")), 100);
    await assert.rejects(waiting, /user gave up/);
    for (let i = 0; i < 50 && (await alice.jobs.get(job.id)).status !== "canceled"; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await alice.jobs.get(job.id)).status, "canceled");
    await assert.rejects(alice.jobs.wait(job.id), (e: unknown) => e instanceof JobFailedError && e.code === "job_canceled");
  });

  it("generate passes a webhook and its event filter with the job it creates", async () => {
    const sent: Record<string, unknown>[] = [];
    const ctl = new AbortController();
    const recording = new MotionLora({
      baseUrl: reg.url,
      apiKey: await reg.key("hooked"),
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        if (init?.method === "POST" && String(url).endsWith("/v1/jobs")) {
          sent.push(JSON.parse(String(init.body)));
          ctl.abort();
        }
        return res;
      },
    });
    await assert.rejects(
      recording.generate({
        prompt: "a red circle on a black background",
        webhook: HOOK,
        webhookEventsFilter: ["completed"],
        signal: ctl.signal,
      }),
    );
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.webhook, HOOK);
    assert.deepEqual(sent[0]!.webhook_events_filter, ["completed"]);
    const [job] = await (async () => {
      const jobs = [];
      for await (const j of recording.jobs.list()) jobs.push(j);
      return jobs;
    })();
    assert.equal(job?.webhook, HOOK, "the registry kept it");
  });
});

describe("a job's progress as onProgress reports it, against a real registry", () => {
  it("says where a queued job stands and whether a runner is connected, then reports each change once, never going back", async () => {
    const runnerKey = await reg.key("progress-runner", ["runner"]);
    const runner = new MotionLora({ baseUrl: reg.url, apiKey: runnerKey });
    // Earlier tests' jobs would stand in line ahead: give them to a runner and fail them.
    for (let c = await runner.runner.claim({ runner_id: "drain" }); c; c = await runner.runner.claim({ runner_id: "drain" }))
      await runner.runner.fail(c.job.id, { lease_token: c.lease_token, error: { code: "runner_error", message: "drained" } });
    await reg.services.db.delete(runners);
    const carol = new MotionLora({ baseUrl: reg.url, apiKey: await reg.key("carol") });
    const dave = new MotionLora({ baseUrl: reg.url, apiKey: await reg.key("dave") });
    const seen: JobProgress[] = [];
    const until = async (what: string, ok: (p: JobProgress) => boolean) => {
      for (let i = 0; i < 100 && !seen.some(ok); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(seen.some(ok), `${what}; saw ${JSON.stringify(seen)}`);
    };
    const generating = carol.generate({ prompt: "a red circle on a navy background", options: { steps: 2 }, onProgress: (p) => seen.push(p) });
    await until("carol's job is first in line, with no runner", (p) => p.queue?.position === 1 && p.queue.runners === 0);
    const other = await dave.jobs.create({ kind: "generate", input: { prompt: "a blue star on a navy background" } });
    assert.deepEqual(other.queue, { position: 2, runners: 0, runner_on_demand: null }, "dave's job waits behind carol's");
    assert.deepEqual((await dave.jobs.get(other.id)).queue, { position: 2, runners: 0, runner_on_demand: null });

    // A runner asks for work it cannot take (tunes only): it is connected, and the waiting job hears so.
    assert.equal(await runner.runner.claim({ runner_id: "r-progress", kinds: ["tune"] }), null);
    await until("a runner connected", (p) => p.queue?.runners === 1);
    const claim = (await runner.runner.claim({ runner_id: "r-progress", kinds: ["generate"] }))!;
    assert.equal(claim.job.owner, "carol", "the oldest job, carol's, is claimed first");
    assert.deepEqual((await dave.jobs.get(other.id)).queue, { position: 1, runners: 1, runner_on_demand: null });
    const beat = (progress: number, step: number) =>
      runner.runner.heartbeat(claim.job.id, {
        lease_token: claim.lease_token,
        progress,
        stage: "sampling",
        message: `sampling ${step}/4`,
        eta_seconds: 4 - step,
      });
    await beat(0.5, 2);
    await beat(0.25, 1); // a late or re-estimated report: lower than one already seen
    await beat(0.5, 2); // a repeat
    await beat(0.75, 3);
    const frames = { width: 32, height: 32, count: 16, rgb: new Uint8Array(16 * 32 * 32 * 3) };
    const video = await runner.blobs.upload(await encodeClipPng(frames), "video");
    await runner.runner.complete(claim.job.id, {
      lease_token: claim.lease_token,
      result: { video_sha256: video.sha256, blobs: [{ sha256: video.sha256, kind: "video" }] },
    });
    await generating;

    const running = seen.filter((p) => p.status !== "queued");
    assert.deepEqual(
      running.map((p) => [p.status, p.progress, p.etaSeconds, p.message]),
      [
        ["running", 0, null, null],
        ["running", 0.5, 2, "sampling 2/4"],
        ["running", 0.5, 3, "sampling 1/4"],
        ["running", 0.5, 2, "sampling 2/4"],
        ["running", 0.75, 1, "sampling 3/4"],
        ["succeeded", 1, null, null],
      ],
      "one call per heartbeat (its log line and ETA on it), the bar never back",
    );
    for (let i = 1; i < seen.length; i++) assert.notDeepEqual(seen[i], seen[i - 1], `call ${i} repeats call ${i - 1}`);
    assert.ok(running.every((p) => p.queue === null));
    await dave.jobs.cancel(other.id);
  });
});

describe("a job's progress from its events", () => {
  it("tune tells onFit what the model will see before any upload, fitted as asked, and stops there when onFit throws", async () => {
    // 48×24, 40 frames: pad keeps the whole picture; the span is 1 s to 3 s at the assumed 8 fps.
    const video = { width: 48, height: 24, count: 40, rgb: new Uint8Array(48 * 24 * 3 * 40).fill(90) };
    const seen: FitReport[] = [];
    const stop = new Error("not this clip");
    const jobCount = async () => (await reg.call("GET", "/v1/jobs", { token: aliceKey })).body.data.length;
    const jobs = await jobCount();
    await assert.rejects(
      alice.tune({
        video,
        prompt: "a red circle on a navy background",
        lora: "alice/fit-check",
        fit: "pad",
        start: 1,
        duration: 2,
        onFit: (r) => {
          seen.push(r);
          throw stop;
        },
      }),
      (e) => e === stop,
    );
    assert.equal(seen.length, 1);
    assert.deepEqual([seen[0]!.fit, seen[0]!.square.side, seen[0]!.span, seen[0]!.framesKept.at(-1)], ["pad", 48, { start: 1, end: 3 }, 23]);
    assert.equal(await jobCount(), jobs, "no job was created");
  });

  it("keeps the runner's ETA only as fresh as the progress event that carried it", () => {
    let p: JobProgress = { status: "queued", stage: null, label: "queued", progress: 0, message: null, etaSeconds: null, queue: null };
    p = nextProgress(p, { type: "status", data: { status: "running" } });
    p = nextProgress(p, { type: "progress", data: { progress: 0.3, stage: "temporal", eta_seconds: 40 } });
    assert.deepEqual(p, { status: "running", stage: "temporal", label: "temporal", progress: 0.3, message: null, etaSeconds: 40, queue: null });
    p = nextProgress(p, { type: "log", data: { message: "temporal 10/20" } });
    assert.equal(p.etaSeconds, 40, "a log line keeps it");
    p = nextProgress(p, { type: "progress", data: { progress: 0.96, stage: "upload" } });
    assert.equal(p.etaSeconds, null, "a progress event without one drops it");
    assert.equal(p.message, null, "the temporal stage's last log line is not the upload's");
    p = nextProgress(p, { type: "status", data: { status: "succeeded" } });
    assert.deepEqual([p.status, p.progress, p.etaSeconds], ["succeeded", 1, null]);
  });

  it("labels each state for a person: the place in line while queued (stage is null then), the stage while running, else the status", () => {
    let p: JobProgress = { status: "queued", stage: null, label: "queued", progress: 0, message: null, etaSeconds: null, queue: null };
    p = nextProgress(p, { type: "status", data: { status: "queued", queue: { position: 2, runners: 0 } } });
    assert.deepEqual([p.stage, p.label], [null, "queued, 2nd in line; no runner connected"]);
    p = nextProgress(p, { type: "status", data: { status: "queued", queue: { position: 1, runners: 3 } } });
    assert.equal(p.label, "queued, next; 3 runners connected");
    p = nextProgress(p, { type: "status", data: { status: "running" } });
    assert.equal(p.label, "running", "claimed, before the runner names a stage");
    p = nextProgress(p, { type: "progress", data: { progress: 0.1, stage: "spatial" } });
    assert.equal(p.label, "spatial");
    p = nextProgress(p, { type: "status", data: { status: "succeeded" } });
    assert.equal(p.label, "succeeded");
  });
});
