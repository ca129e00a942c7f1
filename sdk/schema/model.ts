import * as z from "zod";
import { Sha256 } from "./common.ts";

const TERM = /^(<[a-z_]+>|[a-z]+)\??$/;

/**
 * The caption grammar the base model was trained on (gpu-runner/artifacts/grammar.json, made by
 * fymnet/grammar.py): `rules` map a name to alternatives, each a list of terms: a literal word,
 * `<name>` (a rule or a slot), a trailing `?` for optional.
 */
export const Grammar = z
  .object({
    format: z.literal(1),
    start: z.string(),
    slots: z.record(z.string(), z.object({ label: z.string(), words: z.array(z.string()).min(1) })),
    rules: z.record(z.string(), z.array(z.array(z.string().regex(TERM)).min(1)).min(1)),
    examples: z.array(z.string()).describe("captions the world writes, every one of which fits"),
  })
  .superRefine((g, ctx) => {
    if (!g.rules[g.start]) ctx.addIssue({ code: "custom", path: ["start"], message: `no rule named '${g.start}'` });
    for (const [name, alternatives] of Object.entries(g.rules)) {
      for (const term of alternatives.flat()) {
        const ref = /^<([a-z_]+)>/.exec(term)?.[1];
        if (ref && !g.rules[ref] && !g.slots[ref]) ctx.addIssue({ code: "custom", path: ["rules", name], message: `'${term}' names no rule or slot` });
      }
    }
  });
export type Grammar = z.infer<typeof Grammar>;

/** The base model this registry's LoRAs are published for and its jobs run on, with the words its prompts may use. */
export const BaseModel = z.object({
  id: z.string(),
  sha256: Sha256.describe("sha256 of the base model's weights; a LoRA's metadata must name it"),
  depth: z.number().int().describe("transformer blocks, each with one self-attention that carries LoRA tensors"),
  dim: z.number().int(),
  heads: z.number().int(),
  projections: z.array(z.string()).describe("self-attention projections that carry LoRA tensors"),
  max_rank: z.number().int().describe("the largest LoRA rank the runner's slots hold"),
  vocabulary: z.array(z.string()).nullable().describe("the words a prompt may use; null: this registry was not given the vocabulary and checks no prompt"),
  max_prompt_words: z.number().int().describe("words that fit in the text encoder after its <cls> token"),
  prompt_rules: z.string().describe("how a prompt is split into words before each is looked up"),
  grammar: Grammar.nullable().describe("the slots and word order of the captions the model learned; null: this registry checks words only"),
});
export type BaseModel = z.infer<typeof BaseModel>;
