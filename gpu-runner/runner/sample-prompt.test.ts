import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { matchGrammar, promptWords } from "../../sdk/prompt/grammar.ts";
import type { Grammar } from "../../sdk/schema/model.ts";
import { loadGrammar, transferPrompts } from "./sample-prompt.ts";

/** A tune's first transfer prompt; null when the caption does not fit the grammar. */
const transferPrompt = (caption: string, g: Grammar): string | null => transferPrompts(caption, g, 1)[0] ?? null;

let g: Grammar;
before(async () => {
  g = (await loadGrammar())!;
});

describe("a tune's transfer sample prompt", () => {
  it("keeps the scene and its motion words, and gives every colour and shape a new one", () => {
    assert.equal(transferPrompt("a white diamond moving on a striped black background", g), "a red circle moving on a striped gray background");
    assert.equal(
      transferPrompt("a small red circle and a blue star bouncing on a navy background", g),
      "a small green square and a yellow triangle bouncing on a black background",
    );
    assert.equal(transferPrompt("a yellow person waving on a teal background", g), "a red person waving on a black background");
  });

  it("fits the grammar for every caption the world writes", () => {
    for (const caption of g.examples) {
      const p = transferPrompt(caption, g);
      assert.ok(p && matchGrammar(promptWords(p), g).ok && p !== caption, `${caption} -> ${p}`);
    }
  });

  it("gives several, all different, across colours, shapes, sizes and backgrounds", () => {
    assert.deepEqual(transferPrompts("a red circle on a navy background", g, 3), [
      "a green square on a black background",
      "a small blue triangle on a gradient gray background",
      "a big yellow star on a striped maroon background",
    ]);
    for (const caption of g.examples) {
      const ps = transferPrompts(caption, g, 3);
      assert.equal(new Set(ps).size, 3, `${caption} -> ${ps}`);
      for (const p of ps) assert.ok(matchGrammar(promptWords(p), g).ok && p !== caption, `${caption} -> ${p}`);
    }
  });

  it("gives none for a caption outside the grammar", () => {
    assert.equal(transferPrompt("a red circle", g), null);
  });
});
