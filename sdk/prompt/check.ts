import type { Grammar } from "../schema/model.ts";
import { expectedText, expectedWords, grammarMismatchMessage, grammarSuggestion, matchGrammar, type GrammarMatch } from "./grammar.ts";
import { type ReadPrompt, readPrompt } from "./normalize.ts";
import { closestWord } from "./suggest.ts";

/** What a prompt is checked against: the base model's words, word limit and grammar (GET /v1/model). */
export interface PromptModel {
  vocabulary: readonly string[] | null;
  maxPromptWords: number;
  grammar: Grammar | null;
}

/** Why a prompt would not reach the model as written, with the code the registry answers. */
export type PromptProblem =
  | { code: "unknown_word"; message: string; unknown: string[]; suggestions: Record<string, string | null> }
  | { code: "too_many_words"; message: string; words: number }
  | { code: "prompt_does_not_fit"; message: string; match: Extract<GrammarMatch, { ok: false }>; suggestion: string | null };

const WHERE_WORDS = "`motion-lora vocab` (or GET /v1/model) lists the words prompts may use";

/**
 * Words the model does not know, each with the closest word that fits: from what the grammar expects
 * at that place when `mismatch` stopped there, else from the whole vocabulary. Never the whole list.
 * Given the prompt as read (`typed`), words are quoted and counted as the user typed them.
 */
export function unknownWordMessage(
  words: readonly string[],
  vocabulary: readonly string[],
  mismatch: Extract<GrammarMatch, { ok: false }> | null = null,
  typed?: ReadPrompt,
): { message: string; unknown: string[]; suggestions: Record<string, string | null> } {
  const known = new Set(vocabulary);
  const suggestions: Record<string, string | null> = {};
  const named: string[] = [];
  const number = (i: number) => (typed?.typed[i]?.index ?? i) + 1;
  for (const [i, w] of words.entries()) {
    if (known.has(w) || w in suggestions) continue;
    const here = mismatch?.position === i ? expectedWords(mismatch) : [];
    const s = closestWord(w, here) ?? closestWord(w, vocabulary);
    suggestions[w] = s;
    named.push(`'${typed?.typed[i]?.raw ?? w}' (word ${number(i)}${s ? `; did you mean '${s}'?` : ""})`);
  }
  const first = words.findIndex((w) => !known.has(w));
  const there =
    mismatch?.position === first && first >= 0
      ? `; at word ${number(first)} the model expects ${mismatch.expected.map(expectedText).join(", or ")}`
      : `; ${WHERE_WORDS}`;
  return { message: `the model does not know ${named.join(", ")}${there}`, unknown: Object.keys(suggestions), suggestions };
}

/** The first reason `prompt`, read as the model reads it, would not reach the model; null when it fits. */
export function promptProblem(prompt: string, model: PromptModel): PromptProblem | null {
  const typed = readPrompt(prompt);
  const { words } = typed;
  const match = model.grammar ? matchGrammar(words, model.grammar) : null;
  const mismatch = match && !match.ok ? match : null;
  if (model.vocabulary && words.some((w) => !model.vocabulary!.includes(w))) {
    return { code: "unknown_word", ...unknownWordMessage(words, model.vocabulary, mismatch, typed) };
  }
  if (words.length > model.maxPromptWords) {
    return {
      code: "too_many_words",
      message: `it has ${words.length} words; at most ${model.maxPromptWords} fit the model's text encoder`,
      words: words.length,
    };
  }
  if (mismatch) {
    return { code: "prompt_does_not_fit", message: grammarMismatchMessage(words, mismatch, typed), match: mismatch, suggestion: grammarSuggestion(mismatch) };
  }
  return null;
}
