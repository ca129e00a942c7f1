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

/**
 * The reference's caption with new appearance: every colour and shape word replaced by another of
 * its slot that the caption does not use, so the sample shows the LoRA's motion on new content.
 * Null when the caption does not fit the grammar (nothing to vary safely).
 */
export function transferPrompt(caption: string, g: Grammar): string | null {
  const words = promptWords(caption);
  if (!matchGrammar(words, g).ok) return null;
  const out = [...words];
  for (const slot of APPEARANCE) {
    const choices = g.slots[slot]?.words ?? [];
    const used = new Set(words.filter((w) => choices.includes(w)));
    const fresh = choices.filter((w) => !used.has(w));
    let k = 0;
    const swap = new Map<string, string>();
    out.forEach((w, i) => {
      if (!choices.includes(w) || fresh.length === 0) return;
      if (!swap.has(w)) swap.set(w, fresh[k++ % fresh.length]!);
      out[i] = swap.get(w)!;
    });
  }
  const prompt = out.join(" ");
  return matchGrammar(out, g).ok && prompt !== words.join(" ") ? prompt : null;
}
