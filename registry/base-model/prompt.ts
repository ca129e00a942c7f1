import { grammarMismatchMessage, matchGrammar, promptWords } from "../../sdk/prompt/grammar.ts";
import { RegistryError } from "../http/errors.ts";
import type { BaseModelSpec } from "./spec.ts";

/** How checkPrompt and the runner's tokenizer read a prompt, in words a user can follow (served by GET /v1/model). */
export const PROMPT_RULES =
  "A prompt is lower-cased, commas count as spaces, and it is split on whitespace; every word must be in `vocabulary`, " +
  "at most `max_prompt_words` words fit, and the words must follow `grammar` (the slots and word order of the captions " +
  "the model was trained on). Captions read like " +
  "'a small red circle and a blue star bouncing on a striped navy background', 'a big green square on a gray background " +
  "with the camera panning' or 'a white person waving on a teal background'.";

/**
 * Refuses, when a job is created, a prompt the runner's tokenizer would refuse after the job was
 * queued (and, for a tune job, after its LoRA was made): the words split by the same promptWords
 * the runner's tokenizer uses; and a prompt the tokenizer accepts but the model never learned to
 * read (words out of their slots), which would spend a job on garbage.
 */
export function checkPrompt(prompt: string, spec: BaseModelSpec, field: string): void {
  if (spec.vocabulary === null) return;
  const words = promptWords(prompt);
  const known = new Set(spec.vocabulary);
  const unknown = [...new Set(words.filter((w) => !known.has(w)))];
  if (unknown.length > 0) {
    throw new RegistryError(
      "unknown_word",
      `${field}: the model does not know ${unknown.map((w) => `'${w}'`).join(", ")}; prompts may use only: ${spec.vocabulary.join(" ")}`,
      { unknown_words: unknown, vocabulary: spec.vocabulary },
    );
  }
  if (words.length > spec.maxPromptWords) {
    throw new RegistryError("validation_failed", `${field} has ${words.length} words; at most ${spec.maxPromptWords} fit the model's text encoder`);
  }
  if (spec.grammar === null) return;
  const match = matchGrammar(words, spec.grammar);
  if (!match.ok) {
    throw new RegistryError("prompt_does_not_fit", `${field}: ${grammarMismatchMessage(words, match)} (\`motion-lora vocab\` shows the grammar)`, {
      position: match.position,
      found: match.found,
      expected: match.expected,
    });
  }
}
