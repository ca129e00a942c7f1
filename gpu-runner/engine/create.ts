import type { Engine } from "./engine.ts";
import type { EngineKind, Provider } from "./kinds.ts";
import { findTorchPython, TorchEngine, type TorchEngineOptions } from "./torch-engine.ts";

/**
 * The engine the runner executes the network with; `auto` takes torch only where it has CUDA.
 * onnxruntime-node loads only when an ONNX engine is made: a torch run on a GPU machine may carry
 * none (gpu-runner/model/pack-node-runtime.sh DIR torch).
 */
export async function createEngine(kind: EngineKind, provider: Provider, torch: TorchEngineOptions = {}): Promise<Engine & { close?: () => Promise<void> }> {
  const useTorch = kind === "onnx" ? null : kind === "torch" ? true : findTorchPython(true)?.cuda === true;
  if (useTorch) return TorchEngine.start(torch);
  const [{ OnnxModel }, { OnnxEngine }] = await Promise.all([import("./session.ts"), import("./onnx-engine.ts")]);
  const model = await OnnxModel.load({ provider });
  return Object.assign(new OnnxEngine(model), { close: () => model.release() });
}
