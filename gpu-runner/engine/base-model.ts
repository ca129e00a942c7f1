// The model's shape and identity, apart from manifest.ts and the engines: fym/ and lora/ size their
// tensors from these, and must load without onnxruntime (torch runs on GPU machines carry none).

// The network's hyper-parameters are the manifest's (one schema, sdk/internal/manifest.ts).
export { ModelConfig } from "../../sdk/internal/manifest.ts";

/** Which base model a LoRA belongs to: its id and the sha256 of its weights. */
export interface BaseModel {
  id: string;
  sha256: string;
}
