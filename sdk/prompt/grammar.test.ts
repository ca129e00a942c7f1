import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Grammar } from "../schema/model.ts";
import { describeGrammar, grammarMismatchMessage, matchGrammar, promptWords } from "./grammar.ts";

// The model's own grammar, as fymnet/grammar.py exports it beside the weights.
const grammar = Grammar.parse(JSON.parse(readFileSync(new URL("../../gpu-runner/artifacts/grammar.json", import.meta.url), "utf8")));

const check = (prompt: string) => {
  const words = promptWords(prompt);
  const m = matchGrammar(words, grammar);
  return m.ok ? null : grammarMismatchMessage(words, m);
};

describe("the caption grammar", () => {
  it("accepts every caption the world writes (the examples exported with it)", () => {
    assert.ok(grammar.examples.length > 200);
    for (const caption of grammar.examples) assert.equal(check(caption), null, caption);
  });

  it("names the misplaced word and what fits there, by slot", () => {
    assert.equal(
      check("a green square on a white background"),
      "'white' (word 6) does not fit after 'a green square on a': the model expects one of the background textures (gradient, striped, checkered, noisy), or one of the background colours (black, gray, navy, maroon, olive, teal)",
    );
    // "plain" is a vocabulary word the world never writes: a plain background has no style word.
    assert.match(check("a green square on a plain white background")!, /^'plain' \(word 6\) .*background colours \(black, gray/);
    assert.match(check("green square on a navy background")!, /^'green' \(word 1\) does not fit at the start: the model expects 'a'$/);
    assert.match(
      check("a red person bouncing on a navy background")!,
      /^'bouncing' .* person actions \(walking, waving, jumping, spinning, dancing\), or 'on'$/,
    );
  });

  it("says when the prompt ends too soon or runs on", () => {
    assert.match(check("a red circle on a")!, /^the prompt ends too soon: after 'a red circle on a' the model expects .*background colours/);
    assert.match(check("a red circle on a navy background and a blue star")!, /^'and' \(word 8\) .*'with', or the end of the prompt$/);
  });

  it("reads several objects, a person, the camera, commas and capitals", () => {
    for (const ok of [
      "a small red circle and a blue star bouncing on a striped navy background",
      "A big green square, on a gray background, with the camera panning",
      "a white person waving on a teal background",
      "a red star and a green triangle and a blue cross on a black background",
    ]) {
      assert.equal(check(ok), null, ok);
    }
    assert.match(
      check("a red star and a green triangle and a blue cross and a cyan square on a black background")!,
      /^'and' \(word 12\) .*object motions .*, or 'on'$/,
    );
  });

  it("refuses a grammar that names a rule or slot it does not define", () => {
    const broken = { ...grammar, rules: { ...grammar.rules, caption: [["<objects>", "<setting>", "<weather>"]] } };
    assert.throws(() => Grammar.parse(broken), /'<weather>' names no rule or slot/);
  });

  it("prints its rules and slots for a person", () => {
    const text = describeGrammar(grammar);
    assert.match(text.split("\n")[0]!, /^CAPTION += {1,2}OBJECTS \[OBJECT_MOTION\] SETTING$/);
    assert.match(text, /BACKGROUND_COLOUR +background colours: black, gray, navy, maroon, olive, teal/);
  });
});
