// End to end on CPU: a real registry on loopback, runners as real processes, the SDK as users call it.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { type JobProgress, MotionLora } from "../sdk/client/client.ts";
import { JobFailedError, NotFoundError, UnprocessableEntityError } from "../sdk/client/errors.ts";
import { encodeClipPng } from "../sdk/video/frames.ts";
import type { Job } from "../sdk/schema/index.ts";
import { decodePng } from "../sdk/video/png-decode.ts";
import { cli, type Proc } from "./helpers/processes.ts";
import { startTestRegistry, type TestRegistry } from "./helpers/registry.ts";

const CLIP = new URL("../examples/clips/single-object-1.png", import.meta.url).pathname;
const CAPTION = "a white diamond on a striped black background";

let reg: TestRegistry;
let alice: MotionLora;
let runnerToken: string;
const runners: Proc[] = [];

function startRunner(): Proc {
  // One transfer sample a tune (the default is 3): what is checked here is that one is made and scored.
  const p = cli(["runner", "start", "--registry", reg.url, "--lease-seconds", "8", "--samples", "1", "--cache", `${reg.home}/runner-cache`], {
    MOTION_LORA_TOKEN: runnerToken,
  });
  runners.push(p);
  return p;
}

async function eventsOf(id: string) {
  const res = await reg.call("GET", `/v1/jobs/${id}`, { token: reg.admin });
  return { job: res.body as Job, events: await reg.services.events.after(id, 0) };
}

before(async () => {
  reg = await startTestRegistry();
  alice = new MotionLora({ baseUrl: reg.url, apiKey: await reg.key("alice") });
  runnerToken = await reg.key("runners", ["runner"]);
});
after(async () => {
  for (const r of runners) if (r.child.exitCode === null) r.child.kill("SIGKILL");
  await reg.stop();
});

describe("end to end: tune and generate through registry and runner processes", () => {
  let version: Awaited<ReturnType<MotionLora["tune"]>>;

  it("tunes a bundled clip into a published LoRA version whose metadata comes from its file", async () => {
    const runner = startRunner();
    await runner.waitFor(/runner started/);
    const stages = new Set<string>();
    const seen: JobProgress[] = [];
    version = await alice.tune({
      video: new Uint8Array(await readFile(CLIP)),
      prompt: CAPTION,
      lora: "alice/diamond-path",
      create: { title: "Diamond path", category: "single-object" },
      options: { spatial_steps: 3, temporal_steps: 6, seed: 1 },
      onProgress: (p) => {
        seen.push(p);
        if (p.stage) stages.add(p.stage);
      },
    });
    // One honest progress line: stages in the order they run, the bar never back, one ETA (the job's).
    assert.deepEqual([...stages], ["heads", "spatial", "temporal", "sample", "upload"]);
    for (let i = 1; i < seen.length; i++)
      assert.ok(seen[i]!.progress >= seen[i - 1]!.progress, `progress went back: ${JSON.stringify(seen.slice(i - 1, i + 1))}`);
    assert.ok(!seen.some((p) => /eta/i.test(p.message ?? "")), "the log line carries no ETA of its own");
    for (let i = 1; i < seen.length; i++) assert.notDeepEqual(seen[i], seen[i - 1]);
    assert.equal(version.version, 1);
    assert.equal(version.stage, "temporal");
    assert.equal(version.tuning_config.temporalSteps, 6);
    assert.equal(version.tuning_config.engine, "onnx:cpu");
    assert.equal(version.tuning_config.recipe, "custom", "a shortened budget is not the benchmarked recipe");
    assert.equal(version.tuning_config.benchmark, undefined);
    assert.equal(version.target_heads.length, 6);
    assert.ok(version.reference_video_sha256 && version.preview_sha256);
    assert.ok(stages.has("temporal"), `progress stages ${[...stages]}`);
    const [sample] = version.samples;
    assert.ok(sample && sample.prompt !== CAPTION, `a transfer sample on new content: ${JSON.stringify(version.samples)}`);
    assert.equal(version.samples.length, 1, "as many as the runner's --samples");
    assert.ok(typeof sample.motion_fidelity === "number" && version.transfer?.n === 1, "scored against the reference");
    assert.equal(new TextDecoder().decode((await alice.blobs.download(sample.preview_sha256)).subarray(0, 4)), "GIF8", "a GIF");
    const job = await alice.jobs.get(version.job_id!);
    const heat = await decodePng(await alice.blobs.download(String(job.result?.heads_preview_sha256)));
    assert.deepEqual([heat.width, heat.height], [8 * 16, 6 * 16], "the head classification heat map: a column per head, a row per block");
  });

  it("generates a clip with the published motion LoRA", async () => {
    const out = await alice.generate({
      prompt: "a red circle on a striped black background",
      loras: [{ ref: "alice/diamond-path@1", weight: 1 }],
      options: { steps: 3, seed: 7 },
    });
    assert.deepEqual([out.frames.count, out.frames.width, out.frames.height], [16, 32, 32]);
    assert.equal(out.job.resolved_loras[0]?.file_sha256, version.file_sha256);
    const again = await alice.generate({
      prompt: "a red circle on a striped black background",
      loras: [{ ref: "alice/diamond-path@1" }],
      options: { steps: 3, seed: 7 },
    });
    assert.deepEqual(again.png, out.png, "seeded generation is deterministic on one provider");
    const early = await alice.generate({
      prompt: "a red circle on a striped black background",
      loras: [{ ref: "alice/diamond-path@1", until: 0.34 }],
      options: { steps: 3, seed: 7 },
    });
    assert.equal(early.job.resolved_loras[0]?.until, 0.34, "the job keeps the share it was asked for");
    assert.notDeepEqual(early.png, out.png, "the LoRA left the last steps to the base model");
  });

  it("fails jobs the model cannot do with a clear, final error", async () => {
    // Words the model does not know are refused when the job is created: no job is queued, no LoRA made.
    await assert.rejects(alice.generate({ prompt: "a purple elephant", options: { steps: 2 } }), (e: unknown) => {
      assert.ok(e instanceof UnprocessableEntityError);
      assert.equal(e.code, "unknown_word");
      assert.match(e.message, /'purple' \(word 2\), 'elephant' \(word 3\); at word 2 the model expects .*object colours/);
      return true;
    });
    await assert.rejects(
      alice.jobs.create({
        kind: "tune",
        input: {
          video_sha256: version.reference_video_sha256!,
          prompt: "a purple elephant",
          lora: "alice/elephant",
          create: { title: "Elephant", category: "single-object" },
        },
      }),
      (e: unknown) => e instanceof UnprocessableEntityError && e.code === "unknown_word",
    );
    await assert.rejects(alice.loras.get("alice/elephant"), NotFoundError, "no empty LoRA is left behind");
    // The same through the SDK's tune: `create` travels with the job, so a refused job creates nothing.
    await assert.rejects(
      alice.tune({
        video: new Uint8Array(await readFile(CLIP)),
        prompt: "a purple elephant",
        lora: "alice/elephant-sdk",
        create: { title: "Elephant", category: "single-object" },
      }),
      (e: unknown) => e instanceof UnprocessableEntityError && e.code === "unknown_word",
    );
    await assert.rejects(alice.loras.get("alice/elephant-sdk"), NotFoundError, "the SDK's tune leaves no empty LoRA either");
    // A clip of the wrong shape, uploaded around the SDK's fitting: refused at upload, before any runner sees it
    // (one that arrives anyway fails invalid_video, not retried: gpu-runner/runner/bad-video.test.ts).
    await assert.rejects(
      alice.blobs.upload(await encodeClipPng({ width: 8, height: 8, count: 4, rgb: new Uint8Array(4 * 8 * 8 * 3) }), "video"),
      (e: unknown) => e instanceof UnprocessableEntityError && e.code === "invalid_video" && /16 frames of 32×32/.test(e.message),
    );
    // A recipe by name is that recipe's options: the batched default's 4 samples a step cannot run on the CPU runner's ONNX graphs.
    const batched = await alice.jobs.create({
      kind: "tune",
      input: { video_sha256: version.reference_video_sha256!, prompt: CAPTION, lora: "alice/diamond-path", recipe: "default-batched" },
    });
    await assert.rejects(
      alice.jobs.wait(batched.id),
      (e: unknown) => e instanceof JobFailedError && e.code === "unsupported_option" && /samplesPerStep 4/.test(e.message),
    );
  });

  it("finishes a job once when its runner is killed mid-job and another takes over", async () => {
    const job = await alice.jobs.create({
      kind: "tune",
      input: {
        video_sha256: version.reference_video_sha256!,
        prompt: CAPTION,
        lora: "alice/diamond-path",
        options: { spatial_steps: 3, temporal_steps: 40, seed: 2 },
      },
    });
    const first = runners[0]!;
    await first.waitFor(new RegExp(`${job.id}.*job claimed`));
    await waitForStage(job.id, "temporal");
    first.child.kill("SIGKILL");
    await first.exited;
    const second = startRunner();
    const done = await alice.jobs.wait(job.id);
    assert.equal(done.status, "succeeded");
    assert.equal(done.attempts, 2);
    await second.waitFor(new RegExp(`${job.id}.*job succeeded`));
    const versions = [];
    for await (const v of alice.versions.list("alice/diamond-path")) versions.push(v);
    assert.equal(versions.filter((v) => v.job_id === job.id).length, 1, "one version for the job");
  });

  it("reports the time left while it works, and stops within seconds of a cancel", async () => {
    const runner = runners.at(-1)!;
    const job = await alice.jobs.create({
      kind: "tune",
      input: {
        video_sha256: version.reference_video_sha256!,
        prompt: CAPTION,
        lora: "alice/diamond-path",
        options: { spatial_steps: 3, temporal_steps: 2000 },
      },
    });
    await waitForStage(job.id, "temporal");
    // A long temporal stage: its progress events carry the runner's estimate of the time left.
    let eta: unknown;
    for (let i = 0; i < 100 && eta === undefined; i++) {
      eta = (await reg.services.events.after(job.id, 0)).map((e) => (e.data as { eta_seconds?: unknown }).eta_seconds).find((x) => x !== undefined);
      if (eta === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(typeof eta === "number" && eta > 0, `the runner's whole-job ETA: ${eta}`);
    const t0 = Date.now();
    await alice.jobs.cancel(job.id);
    await runner.waitFor(new RegExp(`${job.id}.*job stopped: canceled`), 10_000);
    const ms = Date.now() - t0;
    assert.ok(ms < 5_000, `stopped ${ms} ms after the cancel`);
    assert.equal((await alice.jobs.get(job.id)).status, "canceled");
  });

  it("never gives one job to two runners, and a SIGTERM releases the job without spending an attempt", async () => {
    const other = startRunner();
    await other.waitFor(/runner started/);
    const jobs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        alice.jobs.create({ kind: "generate", input: { prompt: "a blue star on a black background", options: { steps: 2, seed: i } } }),
      ),
    );
    for (const j of jobs) await alice.jobs.wait(j.id);
    for (const j of jobs) {
      const { job, events } = await eventsOf(j.id);
      assert.equal(job.attempts, 1);
      assert.equal(events.filter((e) => e.type === "status" && e.data.status === "running").length, 1, `job ${j.id} ran once`);
    }
    const claimedBy = (p: Proc) => jobs.filter((j) => p.lines.some((l) => l.includes(j.id) && l.includes("job claimed"))).length;
    assert.equal(claimedBy(other) + claimedBy(runners.at(-2)!), jobs.length);

    const long = await alice.jobs.create({
      kind: "tune",
      input: {
        video_sha256: version.reference_video_sha256!,
        prompt: CAPTION,
        lora: "alice/diamond-path",
        options: { spatial_steps: 3, temporal_steps: 40, seed: 3 },
      },
    });
    await waitForStage(long.id, "temporal");
    const holder = runners.find((r) => r.child.exitCode === null && r.lines.some((l) => l.includes(long.id)))!;
    holder.child.kill("SIGTERM");
    const exit = await holder.exited;
    assert.equal(exit.code, 0, "a clean exit");
    assert.ok(holder.lines.some((l) => l.includes(long.id) && l.includes("job stopped: shutdown")));
    const done = await alice.jobs.wait(long.id);
    assert.equal(done.status, "succeeded");
    assert.equal(done.attempts, 1, "the released attempt was not counted");
  });
});

async function waitForStage(id: string, stage: string) {
  for (let i = 0; i < 600; i++) {
    const j = await alice.jobs.get(id);
    if (j.stage === stage) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} never reached stage ${stage}`);
}
