import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { and, eq, sql } from "drizzle-orm";
import { BASE_ID, BASE_SHA, GIF, loraFile, sha256 } from "../../test/helpers/lora-file.ts";
import { onlyOn, startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";
import { loraVersions, loras } from "../db/schema.ts";
import { newId } from "../ids.ts";
import { defaultWebhookConfig } from "../webhooks/config.ts";

const webhooks = { ...defaultWebhookConfig, allowPrivate: true, baseDelayMs: 20 };

describe("job completion is atomic: a crash between commit and publish loses nothing", () => {
  let receiver: Server;
  let hookUrl = "";
  let home = "";
  const received: string[] = [];
  before(async () => {
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c;
      });
      req.on("end", () => {
        received.push(JSON.parse(body).type);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
    home = await mkdtemp(join(tmpdir(), "motion-lora-crash-"));
  });
  after(async () => {
    await new Promise<void>((ok) => receiver.close(() => ok()));
    await rm(home, { recursive: true, force: true });
  });

  /** A tune job claimed by a runner, its LoRA file uploaded, and the publish step rigged to crash once. */
  async function crashedCompletion(r: TestRegistry, name: string) {
    const alice = await r.key("alice");
    const runner = await r.key("runner", ["runner"]);
    await r.call("POST", "/v1/loras", { token: alice, json: { name, title: name, category: "single-object" } });
    const video = await sha256(GIF);
    await r.call("PUT", `/v1/blobs/${video}?kind=video`, { token: alice, body: GIF as BodyInit });
    const job = (
      await r.call("POST", "/v1/jobs", {
        token: alice,
        json: {
          kind: "tune",
          input: { video_sha256: video, prompt: "a red circle on a black background", lora: `alice/${name}` },
          webhook: hookUrl,
          webhook_events_filter: ["completed"],
        },
      })
    ).body;
    const claim = (await r.call("POST", "/v1/runner/claim", { token: runner, json: { runner_id: "r1" } })).body;
    const file = loraFile({ alpha: String(name.length) });
    const fileSha = await sha256(file);
    await r.call("PUT", `/v1/blobs/${fileSha}?kind=lora`, { token: runner, body: file as BodyInit });
    const publisher = r.services.publisher;
    const publishTo = publisher.publishTo.bind(publisher);
    publisher.publishTo = async () => {
      publisher.publishTo = publishTo;
      throw new Error("simulated crash between the commit and the publish");
    };
    const complete = () =>
      r.call("POST", `/v1/jobs/${job.id}/complete`, {
        token: runner,
        json: { lease_token: claim.lease_token, result: { lora_sha256: fileSha, blobs: [{ sha256: fileSha, kind: "lora" }] } },
      });
    assert.equal((await complete()).status, 500);
    return { id: job.id as string, alice, complete };
  }

  async function assertFinishedOnce(r: TestRegistry, id: string, token: string) {
    const job = (await r.call("GET", `/v1/jobs/${id}`, { token })).body;
    assert.equal(job.status, "succeeded");
    assert.ok(job.version_id, "the version was published");
    const events = await r.services.events.after(id, 0);
    assert.equal(events.filter((e) => e.type === "status" && e.data.status === "succeeded").length, 1, "one succeeded event");
    assert.equal(events.at(-1)?.data.version_id, job.version_id);
    const deliveries = (await r.call("GET", `/v1/jobs/${id}/webhooks`, { token })).body.data as { event: string }[];
    assert.deepEqual(
      deliveries.map((d) => d.event),
      ["completed"],
      "one completed webhook queued",
    );
  }

  it("keeps a cut-off completion looking unfinished, and the runner's retry finishes it: one version, one succeeded event, one webhook", async (t) => {
    if (onlyOn(t, "node", "the crash is injected into the registry process's publisher; a Worker's runs in workerd")) return;
    const r = await startTestRegistry({ webhooks });
    try {
      const { id, alice, complete } = await crashedCompletion(r, "retried");
      const meanwhile = (await r.call("GET", `/v1/jobs/${id}`, { token: alice })).body;
      assert.equal(meanwhile.status, "running", "not 'succeeded' without its version");
      assert.equal(meanwhile.version_id, null);
      const again = await complete();
      assert.equal(again.status, 200, JSON.stringify(again.body));
      await assertFinishedOnce(r, id, alice);
      assert.equal((await complete()).body.version_id, again.body.version_id, "a further retry changes nothing");
      await assertFinishedOnce(r, id, alice);
    } finally {
      await r.stop();
    }
  });

  it("finishes at start-up a completion that a crash cut off (no retry came)", async (t) => {
    if (onlyOn(t, "node", "the crash is injected into the registry process's publisher; a Worker's runs in workerd")) return;
    const first = await startTestRegistry({ webhooks }, { home });
    const { id, alice } = await crashedCompletion(first, "restarted");
    await first.stop();
    received.length = 0;
    const second = await startTestRegistry({ webhooks }, { home });
    try {
      await assertFinishedOnce(second, id, alice);
      for (let i = 0; i < 100 && !received.includes("job.completed"); i++) await new Promise((ok) => setTimeout(ok, 20));
      assert.deepEqual(received, ["job.completed"]);
      assert.equal((await second.call("GET", "/v1/loras/alice/restarted")).body.latest_version, 1);
    } finally {
      await second.stop();
    }
  });
});

describe("tune jobs: prompt words and the LoRA they create", () => {
  let r: TestRegistry;
  let alice: string;
  let runner: string;
  let video = "";
  before(async () => {
    r = await startTestRegistry();
    alice = await r.key("alice");
    runner = await r.key("runner", ["runner"]);
    video = await sha256(GIF);
    await r.call("PUT", `/v1/blobs/${video}?kind=video`, { token: alice, body: GIF as BodyInit });
    await r.call("POST", "/v1/loras", { token: alice, json: { name: "walk", title: "Walk", category: "human-motion" } });
  });
  after(() => r.stop());

  const tune = (input: Record<string, unknown>) =>
    r.call("POST", "/v1/jobs", { token: alice, json: { kind: "tune", input: { video_sha256: video, ...input } } });
  const claimAndUpload = async () => {
    const claim = (await r.call("POST", "/v1/runner/claim", { token: runner, json: { runner_id: "r1" } })).body;
    const file = loraFile({ alpha: "4" });
    await r.call("PUT", `/v1/blobs/${await sha256(file)}?kind=lora`, { token: runner, body: file as BodyInit });
    return { claim, fileSha: await sha256(file) };
  };

  it("refuses a tune or generate job whose prompt has words the model does not know, at creation, with 422 unknown_word", async () => {
    const res = await tune({ prompt: "a purple elephant on a striped black background", lora: "alice/walk" });
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, "unknown_word");
    assert.equal(
      res.body.error.message,
      "input.prompt: the model does not know 'purple' (word 2), 'elephant' (word 3); at word 2 the model expects one of the sizes (small, big), or one of the object colours (red, green, blue, yellow, cyan, magenta, white, orange)",
    );
    assert.deepEqual(res.body.error.details.unknown_words, ["purple", "elephant"]);
    const gen = await r.call("POST", "/v1/jobs", { token: alice, json: { kind: "generate", input: { prompt: "a dragon" } } });
    assert.equal(gen.body.error.code, "unknown_word");
    assert.equal((await r.call("GET", "/v1/jobs", { token: alice })).body.data.length, 0, "no job was queued");
  });

  it("refuses a prompt of known words out of the grammar's order, at creation, with 422 prompt_does_not_fit naming the word and what fits", async () => {
    const res = await tune({ prompt: "a green square on a white background", lora: "alice/walk" });
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, "prompt_does_not_fit");
    assert.match(
      res.body.error.message,
      /^input\.prompt: 'white' \(word 6\) does not fit after 'a green square on a': .*background colours \(black, gray, navy, maroon, olive, teal\)/,
    );
    assert.deepEqual(
      res.body.error.details.expected.map((e: { slot?: string }) => e.slot),
      ["texture", "background_colour"],
    );
    const gen = await r.call("POST", "/v1/jobs", { token: alice, json: { kind: "generate", input: { prompt: "a red circle" } } });
    assert.equal(gen.body.error.code, "prompt_does_not_fit");
    assert.match(gen.body.error.message, /the prompt ends too soon: after 'a red circle' the model expects .*'on'/);
    assert.equal((await r.call("GET", "/v1/jobs", { token: alice })).body.data.length, 0, "no job was queued");
  });

  it("accepts natural English (an, a full stop, capitals, 'plain', extra spaces) and suggests the word a typo meant", async () => {
    const ok = await tune({ prompt: "An orange cross  on a plain Grey background.", lora: "alice/walk" });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    await r.call("POST", `/v1/jobs/${ok.body.id}/cancel`, { token: alice }); // out of the next tests' claims
    const typo = await r.call("POST", "/v1/jobs", { token: alice, json: { kind: "generate", input: { prompt: "a red sqaure on a navy background" } } });
    assert.equal(typo.body.error.code, "unknown_word");
    assert.match(typo.body.error.message, /^input\.prompt: the model does not know 'sqaure' \(word 3; did you mean 'square'\?\)/);
    assert.deepEqual(typo.body.error.details.suggestions, { sqaure: "square" });
    const misplaced = await r.call("POST", "/v1/jobs", {
      token: alice,
      json: { kind: "generate", input: { prompt: "a red circle on a striped gray backround" } },
    });
    assert.equal(misplaced.body.error.code, "unknown_word");
    assert.match(misplaced.body.error.message, /'backround' \(word 8; did you mean 'background'\?\); at word 8 the model expects 'background'$/);
  });

  it("refuses sparse_frames beside sampling 'dense' at creation, naming the option", async () => {
    const res = await tune({ prompt: "a red circle on a black background", lora: "alice/walk", options: { sampling: "dense", sparse_frames: 4 } });
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, "validation_failed");
    assert.match(JSON.stringify(res.body.error), /sparse_frames.*applies to sparse sampling only/);
    const sparse = await tune({ prompt: "a red circle on a black background", lora: "alice/walk", options: { sampling: "strided", sparse_frames: 4 } });
    assert.equal(sparse.status, 201, "with sparse sampling it is accepted");
    await r.call("POST", `/v1/jobs/${sparse.body.id}/cancel`, { token: alice }); // out of the next tests' claims
  });

  it("leaves no LoRA behind when a tune job with input.create is refused for its prompt", async () => {
    const res = await tune({ prompt: "a purple elephant", lora: "alice/elephant-walk", create: { title: "Elephant", category: "single-object" } });
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, "unknown_word");
    assert.equal((await r.call("GET", "/v1/loras/alice/elephant-walk", { token: alice })).status, 404);
  });

  it("creates the LoRA named with input.create only together with the job's first version; a failed job leaves none", async () => {
    const create = { title: "Fresh motion", category: "single-object", visibility: "private" };
    const failing = await tune({ prompt: "a red circle on a black background", lora: "alice/fresh-motion", create });
    assert.equal(failing.status, 201, JSON.stringify(failing.body));
    assert.equal((await r.call("GET", "/v1/loras/alice/fresh-motion", { token: alice })).status, 404, "not before a version exists");
    const c1 = await claimAndUpload();
    await r.call("POST", `/v1/jobs/${failing.body.id}/fail`, {
      token: runner,
      json: { lease_token: c1.claim.lease_token, error: { code: "invalid_video", message: "bad clip" } },
    });
    assert.equal((await r.call("GET", "/v1/loras/alice/fresh-motion", { token: alice })).status, 404, "a failed job leaves no empty LoRA");

    const ok = await tune({ prompt: "a red circle on a black background", lora: "alice/fresh-motion", create });
    const c2 = await claimAndUpload();
    const done = await r.call("POST", `/v1/jobs/${ok.body.id}/complete`, {
      token: runner,
      json: { lease_token: c2.claim.lease_token, result: { lora_sha256: c2.fileSha, blobs: [{ sha256: c2.fileSha, kind: "lora" }] } },
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    const lora = (await r.call("GET", "/v1/loras/alice/fresh-motion", { token: alice })).body;
    assert.deepEqual([lora.title, lora.visibility, lora.latest_version], ["Fresh motion", "private", 1]);
    assert.equal((await r.call("GET", "/v1/loras/alice/fresh-motion")).status, 404, "created private, as asked");
    const other = await r.call("POST", "/v1/jobs", {
      token: await r.key("bob"),
      json: { kind: "tune", input: { video_sha256: video, prompt: "a red circle on a black background", lora: "alice/other", create } },
    });
    assert.equal(other.status, 403, "create works under your own owner only");
  });

  it("repairs on the completion's replay a publish that half-landed (the version written, latest_version not), so generate by name works", async () => {
    const create = { title: "Half landed", category: "single-object" };
    const job = (await tune({ prompt: "a red circle on a black background", lora: "alice/half-landed", create })).body;
    const { claim, fileSha } = await claimAndUpload();
    assert.equal(claim.job.id, job.id);
    const complete = () =>
      r.call("POST", `/v1/jobs/${job.id}/complete`, {
        token: runner,
        json: { lease_token: claim.lease_token, result: { lora_sha256: fileSha, blobs: [{ sha256: fileSha, kind: "lora" }] } },
      });
    // The publish fails in the database after the commit, leaving the completion's pending mark.
    await r.services.db.run(sql.raw("CREATE TRIGGER cut_off_publish BEFORE INSERT ON lora_versions BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"));
    try {
      assert.equal((await complete()).status, 500);
    } finally {
      await r.services.db.run(sql.raw("DROP TRIGGER cut_off_publish"));
    }
    // What a registry that wrote the version and latest_version in two statements left when killed between them.
    const [target] = await r.services.db
      .select()
      .from(loras)
      .where(and(eq(loras.owner, "alice"), eq(loras.name, "half-landed")));
    assert.equal(target?.latestVersion, null);
    const id = newId("ver");
    await r.services.db.insert(loraVersions).values({
      id,
      loraId: target!.id,
      version: 1,
      fileSha256: fileSha,
      fileSize: loraFile({ alpha: "4" }).length,
      previewSha256: null,
      referenceVideoSha256: video,
      baseModelId: BASE_ID,
      baseModelSha256: BASE_SHA,
      rank: 2,
      alpha: 4,
      stage: "temporal",
      targetHeads: [],
      tuningConfig: {},
      metadata: {},
      notes: `tuned by job ${job.id}`,
      samples: [],
      jobId: job.id,
      createdAt: Date.now(),
    });

    const done = await complete();
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.version_id, id, "the half-landed version, not a second one");
    assert.equal((await r.call("GET", "/v1/loras/alice/half-landed", { token: alice })).body.latest_version, 1);
    const gen = await r.call("POST", "/v1/jobs", {
      token: alice,
      json: { kind: "generate", input: { prompt: "a red circle on a black background", loras: [{ ref: "alice/half-landed" }] } },
    });
    assert.equal(gen.status, 201, JSON.stringify(gen.body));
    assert.equal(gen.body.resolved_loras[0].version_id, id);
    await r.call("POST", `/v1/jobs/${gen.body.id}/cancel`, { token: alice });
  });

  it("answers a forged job-list cursor with 422, not 500", async () => {
    const forged = Buffer.from('[1e999,"x"]').toString("base64url");
    const res = await r.call("GET", `/v1/jobs?cursor=${forged}`, { token: alice });
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, "validation_failed");
  });
});

describe("job completion: the runner declares each result blob's kind", () => {
  let r: TestRegistry;
  let alice: string;
  let runner: string;
  let video = "";
  before(async () => {
    r = await startTestRegistry();
    alice = await r.key("alice");
    runner = await r.key("runner", ["runner"]);
    video = await sha256(GIF);
    await r.call("PUT", `/v1/blobs/${video}?kind=video`, { token: alice, body: GIF as BodyInit });
    await r.call("POST", "/v1/loras", { token: alice, json: { name: "declared", title: "Declared", category: "single-object" } });
  });
  after(() => r.stop());

  /** Queues a job, claims it, and uploads `bytes` as a blob of `kind` with the runner's key. */
  async function claimed(job: Record<string, unknown>, uploads: [Uint8Array, string][]) {
    const created = (await r.call("POST", "/v1/jobs", { token: alice, json: job })).body;
    const claim = (await r.call("POST", "/v1/runner/claim", { token: runner, json: { runner_id: "r1" } })).body;
    assert.equal(claim.job.id, created.id);
    const shas = [];
    for (const [bytes, kind] of uploads) {
      const sha = await sha256(bytes);
      assert.equal((await r.call("PUT", `/v1/blobs/${sha}?kind=${kind}`, { token: runner, body: bytes as BodyInit })).status, 201);
      shas.push(sha);
    }
    const complete = (result: Record<string, unknown>) =>
      r.call("POST", `/v1/jobs/${created.id}/complete`, { token: runner, json: { lease_token: claim.lease_token, result } });
    const status = async () => (await r.call("GET", `/v1/jobs/${created.id}`, { token: alice })).body.status;
    return { shas, complete, status };
  }

  it("refuses a declared kind the stored bytes cannot serve as with 422 naming the field, and accepts the right one", async () => {
    const tune = { kind: "tune", input: { video_sha256: video, prompt: "a red circle on a black background", lora: "alice/declared" } };
    const { shas, complete, status } = await claimed(tune, [
      [loraFile({ alpha: "5" }), "lora"],
      [new Uint8Array([7, 7, 7]), "video"],
    ]);
    const [lora, spatial] = shas as [string, string];
    const wrong = await complete({
      lora_sha256: lora,
      spatial_lora_sha256: spatial,
      blobs: [
        { sha256: lora, kind: "lora" },
        { sha256: spatial, kind: "lora" },
      ],
    });
    assert.equal(wrong.status, 422, JSON.stringify(wrong.body));
    assert.equal(wrong.body.error.code, "validation_failed");
    assert.match(
      wrong.body.error.message,
      /^result\.spatial_lora_sha256: blob [0-9a-f]{64} is application\/octet-stream, which cannot serve as the lora result\.blobs\.1 declares/,
    );
    assert.deepEqual(wrong.body.error.details, { field: "result.spatial_lora_sha256", declared: "lora", content_type: "application/octet-stream" });
    assert.equal(await status(), "running", "nothing was committed");

    const blobs = [
      { sha256: lora, kind: "lora" },
      { sha256: spatial, kind: "video" },
    ];
    const right = await complete({ lora_sha256: lora, spatial_lora_sha256: spatial, blobs });
    assert.equal(right.status, 200, JSON.stringify(right.body));
    assert.deepEqual(right.body.result.blobs, blobs, "the job's result keeps the declaration");
    assert.ok(right.body.version_id);
  });

  it("refuses a result whose hash field is not in its blobs list, naming the field", async () => {
    const tune = { kind: "tune", input: { video_sha256: video, prompt: "a red circle on a black background", lora: "alice/declared" } };
    const { shas, complete, status } = await claimed(tune, [
      [loraFile({ alpha: "6" }), "lora"],
      [new Uint8Array([...GIF, 0]), "preview"],
    ]);
    const [lora, preview] = shas as [string, string];
    const res = await complete({ lora_sha256: lora, preview_sha256: preview, blobs: [{ sha256: lora, kind: "lora" }] });
    assert.equal(res.status, 422);
    assert.match(res.body.error.message, /^result\.preview_sha256: blob [0-9a-f]{64} is not in result\.blobs/);
    assert.equal(await status(), "running");
    const done = await complete({
      lora_sha256: lora,
      preview_sha256: preview,
      blobs: [
        { sha256: lora, kind: "lora" },
        { sha256: preview, kind: "preview" },
      ],
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
  });

  it("holds a generate result to its declaration too", async () => {
    const { shas, complete, status } = await claimed({ kind: "generate", input: { prompt: "a red circle on a black background" } }, [
      [new Uint8Array([5, 4, 3]), "video"],
    ]);
    const [clip] = shas as [string];
    const res = await complete({ video_sha256: clip, blobs: [{ sha256: clip, kind: "preview" }] });
    assert.equal(res.status, 422);
    assert.match(res.body.error.message, /^result\.video_sha256: .* is application\/octet-stream, which cannot serve as the preview result\.blobs\.0 declares/);
    assert.equal(await status(), "running");
    assert.equal((await complete({ video_sha256: clip, blobs: [{ sha256: clip, kind: "video" }] })).status, 200);
  });
});
