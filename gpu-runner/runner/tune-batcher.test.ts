// The runner's batched tunes, through a real registry and the torch process (CPU here; CI
// installs Debian's python3-torch): claimed tunes train as one batch, a canceled one leaves it, and
// each LoRA equals the one its job gets alone.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { MotionLora } from "../../sdk/client/client.ts";
import type { Job } from "../../sdk/schema/index.ts";
import type { TestRegistry } from "../../test/helpers/registry.ts";
import { runTorchUntilIdle, startTuneFixture } from "../../test/helpers/runner.ts";
import { loadManifest } from "../engine/manifest.ts";
import { findTorchPython } from "../engine/torch-engine.ts";
import { decodeLora } from "../lora/file.ts";
import { relNorm } from "../../test/helpers/rel-norm.ts";

const skip = findTorchPython() ? false : "no Python with PyTorch here; apt-get install python3-torch to run the batched runner's tests";
const CAPTION = "a white diamond on a striped black background";
// Few steps on 4 strided frames: what is checked (batching, cancel, equality) holds for any recipe, and the CPU is slow.
const OPTIONS = { spatial_steps: 3, temporal_steps: 12, sampling: "strided", sample_steps: 0 } as const;

describe("a runner that batches tunes (torch engine)", { skip }, () => {
  let reg: TestRegistry;
  let alice: MotionLora;
  let runnerToken: string;
  let video = "";
  before(async () => {
    ({ reg, alice, runnerToken, video } = await startTuneFixture());
  });
  after(() => reg.stop());

  const tuneJob = (name: string, seed: number) =>
    alice.jobs.create({
      kind: "tune",
      input: { video_sha256: video, prompt: CAPTION, lora: `alice/${name}`, create: { title: name, category: "single-object" }, options: { ...OPTIONS, seed } },
    });

  /** Runs every queued job with a fresh runner until it is idle; returns the tune batch sizes it logged. */
  const runAll = (concurrency: number, during?: () => Promise<void>) =>
    runTorchUntilIdle(reg, runnerToken, { concurrency, kind: "tune", batchWindowMs: 1_000 }, during);

  const weightsOf = async (job: Job) => {
    const done = await alice.jobs.get(job.id);
    assert.equal(done.status, "succeeded", JSON.stringify(done.error));
    const versions = [];
    for await (const v of alice.versions.list((job.input as { lora: string }).lora)) versions.push(v);
    const { model } = await loadManifest(undefined, { verify: false });
    return decodeLora(model.config, await alice.blobs.download(versions[0]!.file_sha256), { id: model.id, sha256: model.sha256 }).lora;
  };

  it("trains the tunes it claims as one batch, lets a canceled one leave it, and gives each LoRA its job would get alone", async () => {
    const batched = [await tuneJob("b0", 1), await tuneJob("b1", 2), await tuneJob("b2", 3)];
    const sizes = await runAll(3, async () => {
      // Cancel the third once it trains: it leaves the batch at its next step, the others go on.
      for (let i = 0; i < 600; i++) {
        if ((await alice.jobs.get(batched[2]!.id)).stage === "temporal") break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await alice.jobs.cancel(batched[2]!.id);
    });
    assert.deepEqual(sizes, [3], "the three claimed tunes trained as one batch");
    assert.equal((await alice.jobs.get(batched[2]!.id)).status, "canceled");
    const alone = [await tuneJob("a0", 1), await tuneJob("a1", 2)];
    assert.deepEqual(await runAll(1), [], "one slot: no batching");
    for (const [i, job] of alone.entries()) {
      const [b, a] = [await weightsOf(batched[i]!), await weightsOf(job)];
      // Batched and alone sum in other orders: equal means equal to fp32 rounding (the trainer's test bound).
      assert.ok(relNorm(b.A, a.A) < 5e-5 && relNorm(b.B, a.B) < 5e-5, `LoRA ${i}: batched equals alone (${relNorm(b.B, a.B)})`);
    }
  });
});
