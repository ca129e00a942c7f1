import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MotionLora } from "../../sdk/client/client.ts";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";
import { BUNDLED_ARTIFACTS, loadBaseModel } from "./artifacts.ts";
import { checkPrompt, PROMPT_RULES } from "./prompt.ts";
import { SHIPPED_BASE_MODEL } from "./spec.ts";

describe("GET /v1/model", () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.stop());

  it("serves the base model and its vocabulary to anyone, as the SDK's schema reads it", async () => {
    const m = await new MotionLora({ baseUrl: r.url }).model();
    assert.equal(m.id, r.services.config.baseModel.id);
    assert.equal(m.sha256, r.services.config.baseModel.sha256);
    assert.ok(m.vocabulary, "the test registry reads the artifacts' vocabulary");
    assert.ok(m.vocabulary.includes("circle") && m.vocabulary.includes("panning"));
    assert.ok(!m.vocabulary.some((w) => w.startsWith("<")), "the tokenizer's own tokens are no words of a prompt");
    assert.equal(m.max_prompt_words, 23);
    assert.deepEqual(m.grammar?.slots.background_colour?.words, ["black", "gray", "navy", "maroon", "olive", "teal"]);
    assert.equal(m.grammar?.start, "caption");
  });

  it("its example captions are prompts the registry accepts", () => {
    const examples = [...PROMPT_RULES.matchAll(/'([^']+)'/g)].map((x) => x[1]!);
    assert.ok(examples.length >= 3);
    for (const caption of examples) assert.doesNotThrow(() => checkPrompt(caption, r.services.config.baseModel, "prompt"), caption);
    assert.throws(() => checkPrompt("a purple circle", r.services.config.baseModel, "prompt"), /does not know 'purple'/);
  });
});

describe("the registry's base model from the artifacts", () => {
  const artifacts = BUNDLED_ARTIFACTS;

  it("is the spec the registry falls back on without the artifacts, apart from the words it reads from them", () => {
    const read = loadBaseModel(artifacts);
    assert.ok(read);
    assert.deepEqual({ ...read, vocabulary: null, grammar: null }, SHIPPED_BASE_MODEL);
  });

  it("reads the vocabulary and grammar the manifest hashes, and refuses others", () => {
    assert.ok(loadBaseModel(artifacts)?.vocabulary?.includes("circle"));
    assert.ok(loadBaseModel(artifacts)?.grammar?.rules.caption);
    const dir = mkdtempSync(join(tmpdir(), "motion-lora-artifacts-"));
    try {
      cpSync(join(artifacts, "manifest.json"), join(dir, "manifest.json"));
      const vocab = JSON.parse(readFileSync(join(artifacts, "vocab.json"), "utf8")) as { words: string[] };
      vocab.words.push("purple");
      writeFileSync(join(dir, "vocab.json"), JSON.stringify(vocab));
      assert.throws(() => loadBaseModel(dir), /vocab\.json has sha256 .* but .*manifest\.json records/);
      cpSync(join(artifacts, "vocab.json"), join(dir, "vocab.json"));
      const grammar = JSON.parse(readFileSync(join(artifacts, "grammar.json"), "utf8")) as { slots: Record<string, { words: string[] }> };
      grammar.slots.background_colour!.words.push("white");
      writeFileSync(join(dir, "grammar.json"), JSON.stringify(grammar));
      assert.throws(() => loadBaseModel(dir), /grammar\.json has sha256 .* but .*manifest\.json records/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
