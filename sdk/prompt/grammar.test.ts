import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Grammar } from "../schema/model.ts";
import { promptProblem } from "./check.ts";
import { describeGrammar, grammarMismatchMessage, matchGrammar } from "./grammar.ts";
import { normalizePrompt, promptWords, readPrompt } from "./normalize.ts";
import { closestWord, editDistance } from "./suggest.ts";

// The model's own grammar, as fymnet/grammar.py exports it beside the weights.
const grammar = Grammar.parse(JSON.parse(readFileSync(new URL("../../gpu-runner/artifacts/grammar.json", import.meta.url), "utf8")));
// The words GET /v1/model lists: vocab.json less the encoder's own tokens (registry/base-model/spec.ts).
const vocabulary = (JSON.parse(readFileSync(new URL("../../gpu-runner/artifacts/vocab.json", import.meta.url), "utf8")).words as string[]).filter(
  (w) => !w.startsWith("<"),
);
const model = { vocabulary, maxPromptWords: 23, grammar };

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
    // "plain" is read as no texture word (a plain background), so the misplaced word is 'white'.
    assert.match(promptProblem("a green square on a plain white background", model)!.message, /^'white' \(word 7\) .*background colours \(black, gray/);
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

  it("quotes and counts the words as the user typed them, not as the model reads them", () => {
    assert.equal(
      promptProblem("an orange cross.", model)?.message,
      "the prompt ends too soon: after 'an orange cross' the model expects 'and', or one of the object motions (moving, bouncing, spinning, still), or 'on'",
      "a shape may be followed by another object, a motion, or its background ('on')",
    );
    assert.match(
      promptProblem("An Orange cross, on a plain Grey", model)!.message,
      /^the prompt ends too soon: after 'An Orange cross, on a plain Grey' the model expects 'background'$/,
    );
    assert.match(
      promptProblem("A green square, on a plain White background", model)!.message,
      /^'White' \(word 7\) does not fit after 'A green square, on a plain': the model expects/,
      "'plain', which the model does not read, still counts as a word typed",
    );
    assert.match(promptProblem("Green square on a navy background", model)!.message, /^'Green' \(word 1\) does not fit at the start/);
    assert.match(
      promptProblem("An orange Crss on a grey background", model)!.message,
      /^the model does not know 'Crss' \(word 3; did you mean 'cross'\?\); at word 3 /,
    );
    assert.match(
      promptProblem("a red circle on a plain striped gray Backgroud", model)!.message,
      /'Backgroud' \(word 9; did you mean 'background'\?\); at word 9 the model expects 'background'$/,
    );
    // What the model reads stays as it was: the words, and where it stopped in them.
    const read = readPrompt("An orange cross, on a plain Grey background.");
    assert.deepEqual(read.words, promptWords("An orange cross, on a plain Grey background."));
    assert.deepEqual(
      read.typed.map((t) => [t.raw, t.index]),
      [
        ["An", 0],
        ["orange", 1],
        ["cross", 2],
        ["on", 3],
        ["a", 4],
        ["Grey", 6],
        ["background", 7],
      ],
    );
  });

  it("reads natural English as the captions the model learned: a/an, grey, plain, punctuation, case and extra spaces", () => {
    assert.equal(normalizePrompt("An orange cross on a grey background."), "a orange cross on a gray background");
    assert.equal(normalizePrompt("  A big  ORANGE cross, on a plain navy background!\n"), "a big orange cross on a navy background");
    assert.equal(
      normalizePrompt("a red star... and an orange circle; on a 'striped' teal background?"),
      "a red star and a orange circle on a striped teal background",
    );
    assert.deepEqual(promptWords(" , . "), []);
    for (const ok of ["An orange cross on a navy background.", "an orange person waving on a plain teal background", "A Cyan Star, on a Grey background!"]) {
      assert.equal(check(ok), null, ok);
      assert.equal(promptProblem(ok, model), null, ok);
    }
  });

  it("accepts every word it lists: each vocabulary word fits some prompt as the model reads it", () => {
    const grammarWords = new Set([
      ...Object.values(grammar.slots).flatMap((s) => s.words),
      ...Object.values(grammar.rules).flatMap((alts) => alts.flat().filter((t) => !t.startsWith("<"))),
    ]);
    const unusable = vocabulary.filter((w) => promptWords(w).some((r) => !grammarWords.has(r)));
    assert.deepEqual(unusable, [], "listed among the words a prompt may use, refused by every prompt");
    assert.equal(promptProblem("a green square on a plain gray background", model), null);
  });

  it("suggests the closest word that fits for a typo, and nothing for a word that is far from every word", () => {
    assert.equal(editDistance("circel", "circle"), 1, "two neighbours swapped are one edit");
    assert.equal(closestWord("sqaure", vocabulary), "square");
    assert.equal(closestWord("crimson", vocabulary), null);
    const typo = promptProblem("a red circel on a navy background", model);
    assert.equal(typo?.code, "unknown_word");
    assert.equal(
      typo?.message,
      "the model does not know 'circel' (word 3; did you mean 'circle'?); at word 3 the model expects one of the shapes (circle, square, triangle, star, diamond, cross), or 'person'",
    );
    const far = promptProblem("a crimson circle on a navy background", model);
    assert.equal(
      far?.message,
      "the model does not know 'crimson' (word 2); at word 2 the model expects one of the sizes (small, big), or one of the object colours (red, green, blue, yellow, cyan, magenta, white, orange)",
    );
    assert.ok(far!.message.length < 200, "never the whole vocabulary");
    // The closest word among those that fit at that place, before the whole vocabulary.
    const misplaced = promptProblem("a red circle on a nave background", model);
    assert.equal(misplaced?.code, "unknown_word");
    assert.match(misplaced!.message, /'nave' \(word 6; did you mean 'navy'\?\)/);
    const slot = promptProblem("a red circle bouncing on a black backgrounds", model);
    assert.match(slot!.message, /'backgrounds' \(word 8; did you mean 'background'\?\)/);
    const grammarOnly = check("a red circle on a striped gray backgroud");
    assert.match(
      grammarOnly!,
      /^'backgroud' \(word 8\) does not fit after 'a red circle on a striped gray': did you mean 'background'\? the model expects 'background'$/,
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
