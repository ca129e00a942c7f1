import { z } from "zod";
import { Sha256 } from "./common.ts";

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
});
export type BaseModel = z.infer<typeof BaseModel>;
