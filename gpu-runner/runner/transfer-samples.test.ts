// A tune's transfer samples end to end: a real tune (few steps) on the ONNX engine through a real
// registry (test/run.mjs runs this file on both targets), its samples generated, scored against the
// reference, published with the version and returned by the API.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { matchGrammar, promptWords } from "../../sdk/prompt/grammar.ts";
import type { LoraVersion } from "../../sdk/schema/index.ts";
import { startTuneFixture } from "../../test/helpers/runner.ts";
import { loadGrammar } from "./sample-prompt.ts";
import { createRunner } from "./start.ts";

const CAPTION = "a white diamond on a striped black background";

describe("a tune's transfer samples", () => {
  let f: Awaited<ReturnType<typeof startTuneFixture>>;
  before(async () => {
    f = await startTuneFixture();
  });
  after(() => f.reg.stop());

  it("publishes as many samples as the runner is set to make, each with its prompt and motion fidelity, and the version's mean", async () => {
    const job = await f.alice.jobs.create({
      kind: "tune",
      input: {
        video_sha256: f.video,
        prompt: CAPTION,
        lora: "alice/diamond",
        create: { title: "Diamond", category: "single-object" },
        // Few steps: what is checked is that samples are made, scored and published, not how good they are.
        options: { spatial_steps: 2, temporal_steps: 3, sample_steps: 2, seed: 1 },
      },
    });
    const { runner, engine } = await createRunner({
      registry: f.reg.url,
      token: f.runnerToken,
      cacheDir: `${f.reg.home}/runner-cache`,
      idleExitMs: 1_000,
      samples: 2,
    });
    try {
      await runner.run();
    } finally {
      await (engine as { close?: () => Promise<void> }).close?.();
    }
    assert.equal((await f.alice.jobs.get(job.id)).status, "succeeded");
    // Read as an anonymous visitor reads a public version.
    const v = (await f.reg.call("GET", "/v1/loras/alice/diamond/versions/1")).body as LoraVersion;
    const grammar = (await loadGrammar())!;
    assert.equal(v.samples.length, 2, JSON.stringify(v.samples));
    assert.notEqual(v.samples[0]!.prompt, v.samples[1]!.prompt);
    for (const s of v.samples) {
      assert.ok(s.prompt !== CAPTION && matchGrammar(promptWords(s.prompt), grammar).ok, s.prompt);
      assert.ok(typeof s.motion_fidelity === "number" && s.motion_fidelity >= -1 && s.motion_fidelity <= 1, JSON.stringify(s));
      const gif = await f.reg.call("GET", `/media/${s.preview_sha256}`);
      assert.equal(gif.headers.get("content-type"), "image/gif");
    }
    const mean = (v.samples[0]!.motion_fidelity! + v.samples[1]!.motion_fidelity!) / 2;
    assert.equal(v.transfer?.n, 2);
    assert.ok(Math.abs(v.transfer!.motion_fidelity - mean) < 1e-9, JSON.stringify(v.transfer));
  });

  it("refuses a score in a person's publish: only a runner's samples are measured", async () => {
    const v = (await f.reg.call("GET", "/v1/loras/alice/diamond/versions/1")).body as LoraVersion;
    const token = await f.reg.key("alice");
    const sample = { prompt: "a red circle on a black background", preview_sha256: v.samples[0]!.preview_sha256 };
    const claimed = await f.reg.call("POST", "/v1/loras/alice/diamond/versions", {
      token,
      json: { file_sha256: v.file_sha256, samples: [{ ...sample, motion_fidelity: 1 }] },
    });
    assert.equal(claimed.status, 422, JSON.stringify(claimed.body));
    const plain = await f.reg.call("POST", "/v1/loras/alice/diamond/versions", { token, json: { file_sha256: v.file_sha256, samples: [sample] } });
    assert.equal(plain.status, 201, JSON.stringify(plain.body));
    assert.equal(plain.body.samples[0].motion_fidelity, null);
    assert.equal(plain.body.transfer, null, "no scored sample, no transfer score");
  });
});
