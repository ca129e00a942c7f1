// Named apart from the engines so the CLI checks a flag without loading onnxruntime or PyTorch.

/** Where the ONNX engine runs (onnxruntime-node execution providers). */
export const PROVIDERS = ["cpu", "webgpu", "cuda"] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Which engine a runner uses: onnx (every install), torch (PyTorch in a Python process, the torch process), auto (torch where it sees CUDA). */
export const ENGINE_KINDS = ["onnx", "torch", "auto"] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];
