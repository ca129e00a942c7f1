import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Tokenizer, UnknownWordError } from "./tokenizer.ts";

// The shipped vocabulary (gpu-runner/artifacts/vocab.json): the ids the text encoder was trained on.
const tokenizer = Tokenizer.load(new URL("../artifacts", import.meta.url).pathname);

describe("the runner's tokenizer", () => {
  it("encodes natural English as the caption the model learned: a/an, grey, plain, punctuation, case and spaces", () => {
    const learned = tokenizer.encode("a orange cross on a gray background");
    for (const typed of [
      "An orange cross on a grey background.",
      "  an ORANGE cross,  on a plain gray background!  ",
      "an orange cross; on a plain grey background...",
    ]) {
      assert.deepEqual(tokenizer.encode(typed), learned, typed);
    }
  });

  it("names an unknown word with its closest word instead of the whole vocabulary", () => {
    assert.throws(
      () => tokenizer.encode("a red circel on a navy background"),
      (e: unknown) =>
        e instanceof UnknownWordError &&
        e.message ===
          "the model does not know 'circel' (word 3; did you mean 'circle'?); `motion-lora vocab` (or GET /v1/model) lists the words prompts may use" &&
        e.words.join() === "circel",
    );
  });

  it("never reads the encoder's own tokens from a prompt", () => {
    assert.throws(() => tokenizer.encode("<cls> a red circle on a navy background"), UnknownWordError);
  });
});
