import { promptProblem } from "../../sdk/prompt/check.ts";
import { NORMALIZATION_RULES } from "../../sdk/prompt/normalize.ts";
import { RegistryError } from "../http/errors.ts";
import type { BaseModelSpec } from "./spec.ts";

/** How checkPrompt and the runner's tokenizer read a prompt, in words a user can follow (served by GET /v1/model). */
export const PROMPT_RULES =
  `A prompt is read as the model reads it: ${NORMALIZATION_RULES}. Every word must be in \`vocabulary\`, ` +
  "at most `max_prompt_words` words fit, and the words must follow `grammar` (the slots and word order of the captions " +
  "the model was trained on). Captions read like " +
  "'a small red circle and a blue star bouncing on a striped navy background', 'a big green square on a gray background " +
  "with the camera panning' or 'a white person waving on a teal background'.";

/**
 * Refuses, when a job is created, a prompt the runner's tokenizer would refuse after the job was
 * queued (and, for a tune job, after its LoRA was made): the words read by the same promptWords
 * the runner's tokenizer uses; and a prompt the tokenizer accepts but the model never learned to
 * read (words out of their slots), which would spend a job on garbage.
 */
export function checkPrompt(prompt: string, spec: BaseModelSpec, field: string): void {
  if (spec.vocabulary === null) return;
  const p = promptProblem(prompt, spec);
  if (p === null) return;
  if (p.code === "unknown_word") {
    throw new RegistryError("unknown_word", `${field}: ${p.message}`, { unknown_words: p.unknown, suggestions: p.suggestions, vocabulary: spec.vocabulary });
  }
  if (p.code === "too_many_words") throw new RegistryError("validation_failed", `${field}: ${p.message}`);
  throw new RegistryError("prompt_does_not_fit", `${field}: ${p.message} (\`motion-lora vocab\` shows the grammar)`, {
    position: p.match.position,
    found: p.match.found,
    expected: p.match.expected,
    suggestion: p.suggestion,
  });
}
