import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { matchGrammar, promptWords } from "../../sdk/prompt/grammar.ts";
import { Grammar } from "../../sdk/schema/model.ts";
import { DEFAULT_ARTIFACTS, loadManifest } from "../engine/manifest.ts";

/** The model's caption grammar (grammar.json, hashed in the manifest); null for artifacts made before it. */
export async function loadGrammar(dir = DEFAULT_ARTIFACTS): Promise<Grammar | null> {
  const m = await loadManifest(dir, { verify: false });
  if (!m.model.grammar) return null;
  return Grammar.parse(JSON.parse(await readFile(join(dir, m.model.grammar), "utf8")));
}

// The slots whose words are appearance: a sample swaps them and keeps the scene and its motion words.
const APPEARANCE = ["object_colour", "background_colour", "shape"] as const;

/** Every word of `slot` in `words` replaced by one the caption does not use, the `offset`-th fresh one first. */
function swapSlot(words: string[], caption: readonly string[], choices: readonly string[], offset: number): string[] {
  const fresh = choices.filter((w) => !caption.includes(w));
  if (fresh.length === 0) return words;
  const swap = new Map<string, string>();
  return words.map((w) => {
    if (!choices.includes(w)) return w;
    if (!swap.has(w)) swap.set(w, fresh[(offset + swap.size) % fresh.length]!);
    return swap.get(w)!;
  });
}

/**
 * `word` in the optional slot before each `at` position (a size before an object's colour, a texture
 * before a background's colour): replaced where the slot holds a word, inserted where it is empty.
 */
function setOptional(words: string[], choices: readonly string[], word: string, at: (w: string[], i: number) => boolean): string[] {
  const out: string[] = [];
  for (const [i, w] of words.entries()) {
    if (at(words, i) && !choices.includes(words[i - 1] ?? "")) out.push(word);
    if (choices.includes(w) && at(words, i + 1)) out.push(word);
    else out.push(w);
  }
  return out;
}

/** The k-th variation of a caption's appearance (k = 0: colours and shapes only; k > 0: sizes and textures too). */
function variation(words: readonly string[], g: Grammar, k: number): string[] {
  let out = [...words];
  for (const slot of APPEARANCE) out = swapSlot(out, words, g.slots[slot]?.words ?? [], k);
  if (k === 0) return out;
  const pick = (slot: string) => {
    const choices = g.slots[slot]?.words ?? [];
    const fresh = choices.filter((w) => !words.includes(w));
    return { choices, word: fresh.length ? fresh[(k - 1) % fresh.length] : choices[(k - 1) % Math.max(1, choices.length)] };
  };
  const colours = g.slots.object_colour?.words ?? [];
  const shapes = g.slots.shape?.words ?? [];
  const backgrounds = g.slots.background_colour?.words ?? [];
  const size = pick("size");
  // A size goes before an object's colour when a shape follows it (a person takes none).
  if (size.word) out = setOptional(out, size.choices, size.word, (w, i) => colours.includes(w[i] ?? "") && shapes.includes(w[i + 1] ?? ""));
  const texture = pick("texture");
  if (texture.word) out = setOptional(out, texture.choices, texture.word, (w, i) => backgrounds.includes(w[i] ?? "") && w[i + 1] === "background");
  return out;
}

/**
 * Prompts for a tune's transfer samples: the reference's caption with new appearance, keeping the
 * scene and its motion words, so the samples show the LoRA's motion on new content. The first swaps
 * every colour and shape word for another of its slot that the caption does not use; each next one
 * swaps to other words again and sets its objects' size and its background's texture. At most `n`,
 * all different, each fitting the grammar; none when the caption does not fit it.
 */
export function transferPrompts(caption: string, g: Grammar, n: number): string[] {
  const words = promptWords(caption);
  if (!matchGrammar(words, g).ok) return [];
  const seen = new Set([words.join(" ")]);
  const out: string[] = [];
  // A few more tries than prompts: a variation that repeats one already made is skipped.
  for (let k = 0; out.length < n && k < 2 * n + 4; k++) {
    const v = variation(words, g, k);
    const prompt = v.join(" ");
    if (seen.has(prompt) || !matchGrammar(v, g).ok) continue;
    seen.add(prompt);
    out.push(prompt);
  }
  return out;
}
