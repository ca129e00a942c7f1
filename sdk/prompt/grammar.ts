import type { Grammar } from "../schema/model.ts";
import { type ReadPrompt, typedBefore } from "./normalize.ts";
import { closestWord } from "./suggest.ts";

export { normalizePrompt, promptWords, readPrompt, type ReadPrompt } from "./normalize.ts";

/** What could come at the place a prompt stops fitting the grammar. */
export type Expected = { slot: string; label: string; words: string[] } | { word: string } | { end: true };

/** A prompt against the grammar: it fits, or the first word (counting from 0) no reading of it gets past. */
export type GrammarMatch = { ok: true } | { ok: false; position: number; found: string | null; expected: Expected[] };

const parseTerm = (raw: string) => {
  const optional = raw.endsWith("?");
  const term = optional ? raw.slice(0, -1) : raw;
  const ref = /^<(.+)>$/.exec(term)?.[1];
  return { optional, term, ref };
};

/**
 * Matches words against the grammar, trying every reading (the grammar is ambiguous and tiny; a
 * prompt is at most a few dozen words). When no reading fits, it reports the furthest word any
 * reading reached and everything that could have come there: the error a user can act on.
 */
export function matchGrammar(words: readonly string[], g: Grammar): GrammarMatch {
  let furthest = -1;
  let expected = new Map<string, Expected>();
  const miss = (position: number, key: string, e: Expected) => {
    if (position > furthest) [furthest, expected] = [position, new Map()];
    if (position === furthest) expected.set(key, e);
  };
  const memo = new Map<string, number[]>();

  // Every position a rule can end at when it starts at `at`.
  const rule = (name: string, at: number): number[] => {
    const key = `${name}@${at}`;
    const known = memo.get(key);
    if (known) return known;
    const ends = new Set<number>();
    for (const alternative of g.rules[name]!) for (const end of sequence(alternative, at)) ends.add(end);
    memo.set(key, [...ends]);
    return [...ends];
  };
  const term = (raw: string, at: number): number[] => {
    const { term, ref } = parseTerm(raw);
    if (ref && g.rules[ref]) return rule(ref, at);
    const word = words[at];
    if (ref) {
      const slot = g.slots[ref]!;
      if (word !== undefined && slot.words.includes(word)) return [at + 1];
      miss(at, `<${ref}>`, { slot: ref, label: slot.label, words: slot.words });
      return [];
    }
    if (word === term) return [at + 1];
    miss(at, term, { word: term });
    return [];
  };
  const sequence = (terms: readonly string[], start: number): number[] => {
    let at = [start];
    for (const raw of terms) {
      const next = new Set(parseTerm(raw).optional ? at : []);
      for (const p of at) for (const end of term(raw, p)) next.add(end);
      at = [...next];
      if (at.length === 0) break;
    }
    return at;
  };

  const ends = rule(g.start, 0);
  if (ends.includes(words.length)) return { ok: true };
  for (const end of ends) miss(end, "", { end: true });
  return { ok: false, position: furthest, found: words[furthest] ?? null, expected: [...expected.values()] };
}

/** Every word that fits where the prompt stopped fitting. */
export const expectedWords = (m: Extract<GrammarMatch, { ok: false }>): string[] =>
  m.expected.flatMap((e) => ("word" in e ? [e.word] : "words" in e ? e.words : []));

/** The word that fits there and is one typo away from the misplaced one ("circel" -> "circle"), if any. */
export const grammarSuggestion = (m: Extract<GrammarMatch, { ok: false }>): string | null => (m.found === null ? null : closestWord(m.found, expectedWords(m)));

export const expectedText = (e: Expected) =>
  "end" in e ? "the end of the prompt" : "word" in e ? `'${e.word}'` : `one of the ${e.label} (${e.words.join(", ")})`;

/**
 * One sentence a user can act on: where the prompt stops fitting and what fits there. Given the
 * prompt as read (`typed`, from readPrompt), it quotes the user's own words and counts words as they
 * were typed ("after 'An orange cross,'"), not as the model reads them ("a orange cross").
 */
export function grammarMismatchMessage(words: readonly string[], m: Extract<GrammarMatch, { ok: false }>, typed?: ReadPrompt): string {
  const before = typed ? typedBefore(typed, m.position) : words.slice(0, m.position).join(" ");
  const at = typed?.typed[m.position];
  const found = at?.raw ?? m.found;
  const where =
    m.found === null
      ? `the prompt ends too soon: after '${before}'`
      : `'${found}' (word ${(at?.index ?? m.position) + 1}) does not fit ${before ? `after '${before}'` : "at the start"}:`;
  const suggestion = grammarSuggestion(m);
  return `${where} ${suggestion ? `did you mean '${suggestion}'? ` : ""}the model expects ${m.expected.map(expectedText).join(", or ")}`;
}

const termText = (raw: string) => {
  const { optional, term, ref } = parseTerm(raw);
  const text = ref ? ref.toUpperCase() : term;
  return optional ? `[${text}]` : text;
};

/** The grammar as a person reads it: each rule's alternatives, then each slot's words. */
export function describeGrammar(g: Grammar): string {
  const names = Object.keys(g.rules).sort((a, b) => (a === g.start ? -1 : b === g.start ? 1 : 0));
  const width = Math.max(...names.map((n) => n.length), ...Object.keys(g.slots).map((n) => n.length));
  const rules = names.flatMap((name) =>
    g.rules[name]!.map((alt, i) => `${(i === 0 ? name.toUpperCase() : "").padEnd(width)} ${i === 0 ? "=" : "|"} ${alt.map(termText).join(" ")}`),
  );
  const slots = Object.entries(g.slots).map(([name, s]) => `${name.toUpperCase().padEnd(width)}   ${s.label}: ${s.words.join(", ")}`);
  return [...rules, "", ...slots].join("\n");
}
