import type { Engine } from "./engine.ts";
import { OnnxEngine } from "./onnx-engine.ts";
import type { EngineKind, Provider } from "./kinds.ts";
import { OnnxModel } from "./session.ts";
import { findTorchPython, TorchEngine } from "./torch-engine.ts";

/** The engine the runner executes the network with; `auto` takes torch only where it has CUDA. */
export async function createEngine(kind: EngineKind, provider: Provider): Promise<Engine & { close?: () => Promise<void> }> {
  const torch = kind === "onnx" ? null : kind === "torch" ? true : findTorchPython(true)?.cuda === true;
  if (torch) return TorchEngine.start();
  const model = await OnnxModel.load({ provider });
  return Object.assign(new OnnxEngine(model), { close: () => model.release() });
}
