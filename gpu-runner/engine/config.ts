import * as z from "zod";

// The model's shape and identity, apart from manifest.ts and the engines: fym/ and lora/ size their
// tensors from these, and must load without onnxruntime (torch runs on GPU machines carry none).

/** The network's hyper-parameters, as export writes them into the manifest. */
export const ModelConfig = z.object({
  frames: z.number().int(),
  size: z.number().int(),
  patch: z.number().int(),
  dim: z.number().int(),
  depth: z.number().int(),
  heads: z.number().int(),
  mlp_ratio: z.number().int(),
  text_dim: z.number().int(),
  text_layers: z.number().int(),
  text_heads: z.number().int(),
  vocab: z.number().int(),
  max_tokens: z.number().int(),
  lora_rank: z.number().int(),
  lora_slots: z.number().int(),
});
export type ModelConfig = z.infer<typeof ModelConfig>;

/** Which base model a LoRA belongs to: its id and the sha256 of its weights. */
export interface BaseModel {
  id: string;
  sha256: string;
}

/** Where the ONNX engine runs (onnxruntime-node execution providers): named here so the CLI checks a flag without loading onnxruntime. */
export const PROVIDERS = ["cpu", "webgpu", "cuda"] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Which engine a runner uses: onnx (every install), torch (a PyTorch worker), auto (torch where it sees CUDA). */
export const ENGINE_KINDS = ["onnx", "torch", "auto"] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];
