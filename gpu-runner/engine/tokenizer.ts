import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RunnerError } from "../core/errors.ts";
import { unknownWordMessage } from "../../sdk/prompt/check.ts";
import { promptWords } from "../../sdk/prompt/normalize.ts";

/** The prompt uses words outside the model's vocabulary: final, the prompt must change. */
export class UnknownWordError extends RunnerError {
  override name = "UnknownWordError";
  declare readonly code: "unknown_word";
  constructor(
    readonly prompt: string[],
    readonly vocabulary: string[],
  ) {
    super("unknown_word", unknownWordMessage(prompt, vocabulary).message, true);
  }

  /** The words the model does not know. */
  get words(): string[] {
    return unknownWordMessage(this.prompt, this.vocabulary).unknown;
  }
}

export interface Vocabulary {
  words: string[];
  max_tokens: number;
  pad: number;
  cls: number;
}

/** Word-level tokenizer over the synthetic world's vocabulary (the same rules as gpu-runner/model/fymnet/vocab.py). */
export class Tokenizer {
  private readonly index: Map<string, number>;

  constructor(readonly vocab: Vocabulary) {
    this.index = new Map(vocab.words.map((w, i) => [w, i]));
  }

  static load(dir: string): Tokenizer {
    return new Tokenizer(JSON.parse(readFileSync(join(dir, "vocab.json"), "utf8")) as Vocabulary);
  }

  /** The words a prompt may use (without the special tokens). */
  get words(): string[] {
    return this.vocab.words.filter((w) => !w.startsWith("<"));
  }

  /** Caption, read as the registry checked it (promptWords) -> <cls>, word ids, <pad>… (max_tokens long). */
  encode(caption: string): BigInt64Array {
    const words = promptWords(caption);
    if (words.some((w) => !this.index.has(w))) throw new UnknownWordError(words, this.words);
    if (words.length + 1 > this.vocab.max_tokens) {
      throw new RangeError(`the prompt has ${words.length} words; at most ${this.vocab.max_tokens - 1} fit`);
    }
    const ids = new BigInt64Array(this.vocab.max_tokens).fill(BigInt(this.vocab.pad));
    ids[0] = BigInt(this.vocab.cls);
    for (const [i, w] of words.entries()) ids[i + 1] = BigInt(this.index.get(w)!);
    return ids;
  }
}
