// The runner's batched generations, through a real registry and the torch process (CPU here;
// CI installs Debian's python3-torch): claimed generations sample as one batch, a canceled one ends
// canceled while the others finish, a bad one fails alone, and a batched clip is the one its job gets alone.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { jobs as jobsTable } from "../../registry/db/schema.ts";
import type { MotionLora } from "../../sdk/client/client.ts";
import type { Job } from "../../sdk/schema/index.ts";
import { decodeClipPng } from "../../sdk/video/frames.ts";
import { DIM, f32, loraFile, tensorName } from "../../test/helpers/lora-file.ts";
import type { TestRegistry } from "../../test/helpers/registry.ts";
import { runTorchUntilIdle, startRunnerTestRegistry, storedAnyway } from "../../test/helpers/runner.ts";
import { findTorchPython } from "../engine/torch-engine.ts";

const skip = findTorchPython() ? false : "no Python with PyTorch here; apt-get install python3-torch to run the batched runner's tests";
// Three steps (the canceled job leaves before the last, the others take it): a step of the full 16-frame
// denoiser costs ~3 s of one core per clip with Debian's CPU torch.
const STEPS = 3;

describe("a runner that batches generations (torch engine)", { skip }, () => {
  let reg: TestRegistry;
  let alice: MotionLora;
  let runnerToken: string;
  before(async () => {
    ({ reg, alice, runnerToken } = await startRunnerTestRegistry());
    const file = loraFile({}, 2, [f32(tensorName(0, "q", "A"), [2, DIM], 0.05), f32(tensorName(0, "q", "B"), [DIM, 2], 0.05)]);
    await alice.loras.create({ name: "wave", title: "Wave", category: "single-object" });
    await alice.versions.create("alice/wave", { file_sha256: (await alice.blobs.upload(file, "lora")).sha256 });
  });
  after(() => reg.stop());

  const generateJob = (prompt: string, seed: number, lora = false) =>
    alice.jobs.create({ kind: "generate", input: { prompt, options: { steps: STEPS, seed }, ...(lora && { loras: [{ ref: "alice/wave" }] }) } });

  /** Runs every queued job with a fresh runner until it is idle; returns the generation batch sizes it logged. */
  const runAll = (concurrency: number, during?: () => Promise<void>) =>
    runTorchUntilIdle(reg, runnerToken, { concurrency, kind: "generate", batchWindowMs: 1_500 }, during);

  const clipOf = async (job: Job) => {
    const done = await alice.jobs.get(job.id);
    assert.equal(done.status, "succeeded", JSON.stringify(done.error));
    const sha = (done.result as { video_sha256: string }).video_sha256;
    return (await decodeClipPng(await alice.blobs.download(sha))).rgb;
  };

  /** Points a queued job's LoRA at a file for another base model, stored as a registry whose model changed since would hold it. */
  const retarget = async (job: Job) => {
    const sha = await storedAnyway(reg, "alice", loraFile({ base_model_sha256: "0".repeat(64) }), "lora", "application/vnd.safetensors");
    await reg.services.db
      .update(jobsTable)
      .set({ resolvedLoras: job.resolved_loras.map((l) => ({ ...l, file_sha256: sha })) })
      .where(eq(jobsTable.id, job.id));
  };

  it("samples the generations it claims as one batch, lets a canceled one leave it, fails a bad one alone, and gives each clip its job would get alone", async () => {
    const bad = await generateJob("a red circle on a navy background", 4, true);
    await retarget(bad);
    const batched = [
      await generateJob("a red circle on a navy background", 1),
      await generateJob("a white diamond on a striped black background", 2, true),
      await generateJob("a blue square on a black background", 3),
    ];
    // Four slots: the bad job fails before it joins, the other three sample together.
    const sizes = await runAll(4, async () => {
      // Cancel the third once it has taken a step: it leaves, the others go on.
      for (let i = 0; i < 1200; i++) {
        if (((await alice.jobs.get(batched[2]!.id)).progress ?? 0) > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await alice.jobs.cancel(batched[2]!.id);
    });
    assert.deepEqual(sizes, [3], "the three good generations sampled as one batch");
    assert.equal((await alice.jobs.get(batched[2]!.id)).status, "canceled");
    const failed = await alice.jobs.get(bad.id);
    assert.equal(failed.status, "failed");
    assert.equal(failed.error?.code, "invalid_lora");
    assert.match(failed.error?.message ?? "", /alice\/wave: this LoRA was tuned on base model/);
    assert.equal(failed.attempts, 1, "bad input is not retried");
    const [a, b] = [await clipOf(batched[0]!), await clipOf(batched[1]!)];

    const alone = await generateJob("a white diamond on a striped black background", 2, true);
    assert.deepEqual(await runAll(1), [], "one slot: no batching");
    const c = await clipOf(alone);
    // fp32 clips batched and alone differ by ≤ 1e-3 of their scale (other BLAS kernels for another
    // batch size): after 8-bit quantisation, a value may land one level off, no more.
    const off = b.reduce((s, x, i) => s + (x === c[i] ? 0 : 1), 0);
    const worst = b.reduce((m, x, i) => Math.max(m, Math.abs(x - c[i]!)), 0);
    assert.ok(worst <= 1 && off < b.length / 100, `batched equals alone: ${off} of ${b.length} values differ, by at most ${worst}`);
    assert.ok(a.reduce((s, x, i) => s + Math.abs(x - c[i]!), 0) / a.length > 10, "another job's clip is far away (mean |Δ| > 10 levels)");
  });
});
