/**
 * The one reading of a prompt that the SDK's checks, the registry's prompt check and the runner's
 * tokenizer share, so what is checked is what the model sees: lower case, punctuation and extra
 * spaces dropped, and the few words English writes where the world's captions write another.
 */

/** Words read as another, or (null) as none: the world's captions write "a orange", "gray", and no word for a plain background. */
const REWRITES = new Map<string, string | null>([
  ["an", "a"],
  ["grey", "gray"],
  // The world renders a plain background when a caption names no texture (fymnet/world/spec.py).
  ["plain", null],
]);

/** The rewrites in words a user can follow (GET /v1/model's prompt_rules, `motion-lora vocab`). */
export const NORMALIZATION_RULES =
  'case, punctuation and extra spaces are ignored; "an" reads as "a", "grey" as "gray", and "plain" is dropped (a background with no texture word is plain)';

/** A word of a prompt as the user typed it: its spelling, its place among the words typed (from 0), and where it stands in the text. */
export interface TypedWord {
  raw: string;
  index: number;
  start: number;
  end: number;
}

/** A prompt read as the model reads it, each word still tied to what the user typed: error messages quote the user's own words. */
export interface ReadPrompt {
  /** What the user typed. */
  text: string;
  /** The words as the model reads them (promptWords). */
  words: string[];
  /** For each of `words`, the word the user typed for it. */
  typed: TypedWord[];
}

/** Reads a prompt as the model does (lower case, punctuation dropped, the rewrites), keeping where each word came from. */
export function readPrompt(text: string): ReadPrompt {
  const words: string[] = [];
  const typed: TypedWord[] = [];
  let index = 0;
  // Anything but letters and digits separates words: "cross." is "cross", "<pad>" is "pad".
  for (const m of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    const at = { raw: m[0], index: index++, start: m.index, end: m.index + m[0].length };
    // Lower case may make a separator of a letter ("İ" is "i" and a combining dot): read as the whole prompt lower-cased would be.
    for (const lower of m[0].toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
      if (!lower) continue;
      const w = REWRITES.has(lower) ? REWRITES.get(lower)! : lower;
      if (w === null) continue;
      words.push(w);
      typed.push(at);
    }
  }
  return { text, words, typed };
}

/** The words of a prompt as the model reads them (what its tokenizer encodes). */
export const promptWords = (prompt: string): string[] => readPrompt(prompt).words;

/** A prompt as the model reads it, one string ("An orange cross." -> "a orange cross"). */
export const normalizePrompt = (prompt: string): string => promptWords(prompt).join(" ");

/** What the user typed before word `position` (as the model counts words; past the last, the whole prompt): what an error says came before. */
export function typedBefore(p: ReadPrompt, position: number): string {
  const at = p.typed[position];
  return (at ? p.text.slice(0, at.start) : p.text).replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "").replace(/\s+/g, " ");
}
