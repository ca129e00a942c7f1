import * as z from "zod";
import { Manifest } from "../../sdk/internal/manifest.ts";
import { Grammar } from "../../sdk/schema/model.ts";
import type { ClipShape } from "../../sdk/video/frames.ts";

/**
 * What the registry knows of the base model that LoRAs are published for and jobs run on: enough
 * to refuse, at publish and at job creation, what the runner could never use. The registry reads
 * it from the model's artifacts (manifest.json, vocab.json) as data; it never imports runner code.
 */
export interface BaseModelSpec {
  id: string;
  sha256: string;
  /** Transformer blocks, each with one self-attention carrying LoRA tensors. */
  depth: number;
  /** Model width: the inner dimension of every LoRA A (rank × dim) and B (dim × rank). */
  dim: number;
  heads: number;
  /** Self-attention projections that carry LoRA tensors, in the runner's tensor names. */
  projections: string[];
  /** The largest rank the runner's LoRA slots hold. */
  maxRank: number;
  /** Words a prompt may use; null skips the check (a registry that was not given the vocabulary). */
  vocabulary: string[] | null;
  /** Words that fit in the text encoder's context after its <cls> token. */
  maxPromptWords: number;
  /** The captions' slots and word order (grammar.json); null checks words only. */
  grammar: Grammar | null;
  /** The clip the model tunes on: a reference video's clip PNG must be exactly this. */
  clip: ClipShape;
  /** LoRAs one generation can apply at once (the denoiser's LoRA slots). */
  loraSlots: number;
  /** Frames a sparse training step takes (the sparse training graph's input). */
  sparseFrames: number;
}

/** The model as shipped in gpu-runner/artifacts/manifest.json (weights 29a9cc87…); base-model/artifacts.ts reads the files when present. */
export const SHIPPED_BASE_MODEL: BaseModelSpec = {
  id: "fym-tiny-dit",
  sha256: "29a9cc87ca8c58a3fa3089bc9e79dc50803dfc3b171bdc73518139609cb3f89e",
  depth: 6,
  dim: 192,
  heads: 8,
  projections: ["q", "k", "v", "o"],
  maxRank: 8,
  vocabulary: null,
  maxPromptWords: 23,
  grammar: null,
  clip: { frames: 16, size: 32 },
  loraSlots: 2,
  sparseFrames: 4,
};

/** peft-style names, as the runner writes them: anything else is a silent no-op there (one definition, sdk/schema/lora-file.ts). */
export { loraTensorName } from "../../sdk/schema/lora-file.ts";

/** The most tensors a LoRA of `spec` can hold: an A and a B per projection per block. */
export const maxLoraTensors = (spec: BaseModelSpec) => spec.depth * spec.projections.length * 2;

const Vocabulary = z.object({ words: z.array(z.string()).min(1), max_tokens: z.number().int().min(2) });

/** The spec from the artifacts' manifest.json (the schema the export is tested against), vocab.json and grammar.json (parsed JSON); throws naming the bad field. */
export function baseModelFromArtifacts(manifest: unknown, vocab: unknown, grammar?: unknown): BaseModelSpec {
  const m = Manifest.parse(manifest).model;
  const v = Vocabulary.parse(vocab);
  return {
    id: m.id,
    sha256: m.sha256,
    depth: m.config.depth,
    dim: m.config.dim,
    heads: m.config.heads,
    projections: SHIPPED_BASE_MODEL.projections,
    maxRank: m.config.lora_rank,
    // <pad>, <cls>: the tokenizer's own tokens, never words of a caption.
    vocabulary: v.words.filter((w) => !w.startsWith("<")),
    maxPromptWords: v.max_tokens - 1,
    grammar: grammar === undefined ? null : Grammar.parse(grammar),
    clip: { frames: m.config.frames, size: m.config.size },
    loraSlots: m.config.lora_slots,
    sparseFrames: m.sparse_frames,
  };
}
