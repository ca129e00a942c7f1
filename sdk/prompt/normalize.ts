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

/** The words of a prompt as the model reads them (what its tokenizer encodes). */
export function promptWords(prompt: string): string[] {
  const out: string[] = [];
  // Anything but letters and digits separates words: "cross." is "cross", "<pad>" is "pad".
  for (const raw of prompt.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (!raw) continue;
    const w = REWRITES.has(raw) ? REWRITES.get(raw)! : raw;
    if (w !== null) out.push(w);
  }
  return out;
}

/** A prompt as the model reads it, one string ("An orange cross." -> "a orange cross"). */
export const normalizePrompt = (prompt: string): string => promptWords(prompt).join(" ");
