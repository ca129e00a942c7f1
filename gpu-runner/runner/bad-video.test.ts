import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { jobs as jobsTable } from "../../registry/db/schema.ts";
import { encodeClipPng } from "../../sdk/video/frames.ts";
import type { MotionLora } from "../../sdk/client/client.ts";
import type { Job } from "../../sdk/schema/index.ts";
import { clipBomb, pngWith, zeroBomb } from "../../test/helpers/png-bomb.ts";
import type { TestRegistry } from "../../test/helpers/registry.ts";
import { startRunnerTestRegistry, storedAnyway } from "../../test/helpers/runner.ts";
import { createRunner } from "./start.ts";

const MiB = 1 << 20;
const CAPTION = "a white diamond on a striped black background";

describe("a tune whose clip PNG is a decompression bomb", () => {
  let reg: TestRegistry;
  let alice: MotionLora;
  let runnerToken: string;
  before(async () => {
    ({ reg, alice, runnerToken } = await startRunnerTestRegistry());
  });
  after(() => reg.stop());

  it("fails it invalid_video on the first attempt, quickly, without inflating it", async () => {
    const cases = [
      // The clip's own 512×32 header over 1 MiB of data that inflates to 1 GiB.
      { png: clipBomb(1024 * MiB), why: /inflates past the 49184 bytes its 512×32 header implies/ },
      // A header of 5461×10240 (56 Mpx, under the decoder's 64 Mpx cap) over data that really is that size: 160 MiB inflated.
      { png: pngWith(5461, 10240, zeroBomb(160 * MiB)), why: /16 frames of 32×32 \(a 512×32 clip PNG\); this PNG is 5461×10240/ },
    ];
    // Job creation checks a PNG video as a clip too, so such a job can only be one queued before those
    // checks: made here with a good clip, then pointed at the bomb, as such a row would be.
    const good = await alice.blobs.upload(await encodeClipPng({ width: 32, height: 32, count: 16, rgb: new Uint8Array(16 * 32 * 32 * 3) }), "video");
    const jobs: string[] = [];
    for (const c of cases) {
      const video_sha256 = await storedAnyway(reg, "alice", c.png, "video", "image/png");
      const input = { video_sha256: good.sha256, prompt: CAPTION, lora: "alice/bomb", create: { title: "Bomb", category: "single-object" as const } };
      const id = (await alice.jobs.create({ kind: "tune", input })).id;
      await reg.services.db
        .update(jobsTable)
        .set({ input: { ...input, video_sha256 } })
        .where(eq(jobsTable.id, id));
      jobs.push(id);
    }
    const { runner, engine } = await createRunner({ registry: reg.url, token: runnerToken, cacheDir: `${reg.home}/runner-cache`, idleExitMs: 1_500 });
    // The runner opens its graphs' sessions before its first claim: that is its start, not the jobs' time.
    await engine.prepare?.();
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - base)), 5);
    const t0 = performance.now();
    try {
      await runner.run();
    } finally {
      clearInterval(sample);
      await (engine as { close?: () => Promise<void> }).close?.();
    }
    const ms = performance.now() - t0 - 1_500;
    for (const [i, id] of jobs.entries()) {
      const job = (await reg.call("GET", `/v1/jobs/${id}`, { token: reg.admin })).body as Job;
      assert.equal(job.status, "failed", JSON.stringify(job));
      assert.equal(job.error?.code, "invalid_video");
      assert.match(job.error?.message ?? "", cases[i]!.why);
      assert.equal(job.attempts, 1, "bad input is not retried");
    }
    // Unbounded, the 1 GiB bomb took 41 s alone; the 160 MiB image ~0.5 GB of buffers.
    assert.ok(ms < 3_000, `both jobs took ${ms.toFixed(0)} ms`);
    assert.ok(peak < 64 * MiB, `array buffers grew by ${(peak / MiB).toFixed(0)} MiB`);
  });
});
