import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { goldenInputs } from "./golden.ts";
import { ArtifactError, DEFAULT_ARTIFACTS, GRAPH_NAMES, loadManifest } from "./manifest.ts";
import { OnnxModel } from "./session.ts";
import { UnknownWordError } from "./tokenizer.ts";

describe("ONNX artifacts", () => {
  let model: OnnxModel;
  before(async () => {
    model = await OnnxModel.load({ threads: 2 });
  });
  after(() => model.release());

  it("has a manifest whose every file matches its recorded sha256", async () => {
    const m = await loadManifest();
    assert.equal(Object.keys(m.graphs).length, GRAPH_NAMES.length);
    assert.match(m.model.sha256, /^[0-9a-f]{64}$/);
  });

  it("refuses an artifact set whose files do not match the manifest", async () => {
    const dir = await mkdtemp(join(tmpdir(), "motion-lora-art-"));
    try {
      await cp(DEFAULT_ARTIFACTS, dir, { recursive: true });
      await writeFile(join(dir, "text_encoder.onnx"), "tampered");
      await assert.rejects(
        loadManifest(dir),
        (e: unknown) => e instanceof ArtifactError && e.code === "artifact_corrupt" && /text_encoder\.onnx/.test(e.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a vocabulary that is not the one the manifest records", async () => {
    const dir = await mkdtemp(join(tmpdir(), "motion-lora-art-"));
    try {
      await cp(DEFAULT_ARTIFACTS, dir, { recursive: true });
      const vocab = JSON.parse(await readFile(join(dir, "vocab.json"), "utf8")) as { words: string[] };
      // Two words swapped: valid JSON of the right shape, but every prompt would tokenize wrongly.
      [vocab.words[2], vocab.words[3]] = [vocab.words[3]!, vocab.words[2]!];
      await writeFile(join(dir, "vocab.json"), JSON.stringify(vocab));
      await assert.rejects(loadManifest(dir), (e: unknown) => e instanceof ArtifactError && e.code === "artifact_corrupt" && /vocab\.json/.test(e.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  for (const name of GRAPH_NAMES) {
    it(`runs ${name} on the CPU and matches the golden outputs recorded at export`, async () => {
      const graph = model.manifest.graphs[name];
      const out = await model.run(name, goldenInputs(graph, model.config.vocab));
      for (const [output, summary] of Object.entries(graph.golden.outputs)) {
        const data = out[output]!;
        assert.equal(
          data.length,
          summary.shape.reduce((a, b) => a * b, 1),
          `${output} size`,
        );
        const scale = Math.max(...summary.values.map(Math.abs), summary.abs_sum / data.length, 1e-12);
        summary.indices.forEach((idx, k) => {
          const diff = Math.abs(data[idx]! - summary.values[k]!);
          assert.ok(diff <= 1e-4 * scale + 1e-7, `${name}.${output}[${idx}] = ${data[idx]}, recorded ${summary.values[k]} (diff ${diff})`);
        });
        const absSum = data.reduce((a, v) => a + Math.abs(v), 0);
        assert.ok(Math.abs(absSum - summary.abs_sum) <= 1e-4 * summary.abs_sum + 1e-6, `${name}.${output} abs sum ${absSum} vs ${summary.abs_sum}`);
      }
    });
  }

  it("tokenizes prompts and names unknown words, pointing to the vocabulary", () => {
    const ids = model.tokenizer.encode("a red circle on a striped teal background");
    assert.equal(ids.length, model.config.max_tokens);
    assert.equal(ids[0], 1n);
    assert.throws(
      () => model.tokenizer.encode("a crimson circle"),
      (e: unknown) => e instanceof UnknownWordError && /'crimson' \(word 2\)/.test(e.message) && /motion-lora vocab/.test(e.message),
    );
  });
});
