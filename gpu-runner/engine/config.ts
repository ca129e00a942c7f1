// The model's shape and identity, apart from manifest.ts and the engines: fym/ and lora/ size their
// tensors from these, and must load without onnxruntime (torch runs on GPU machines carry none).

// The network's hyper-parameters are the manifest's (one schema, sdk/internal/manifest.ts).
export { ModelConfig } from "../../sdk/internal/manifest.ts";

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
