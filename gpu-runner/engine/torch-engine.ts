import { join } from "node:path";
import type { DenoiseItem, Engine, SharedOptim, Slots, Trainer, TrainerJob, TrainGraph, TrainStepInput, TrainStepOutput } from "./engine.ts";
import { DEFAULT_ARTIFACTS, loadManifest, type Manifest } from "./manifest.ts";
import { Tokenizer } from "./tokenizer.ts";
import type { Tensors, TorchOp } from "./torch/protocol.ts";
import { findTorchPython, TorchEngineError, TorchProcess } from "./torch/process.ts";
import { createTorchTrainer } from "./torch/trainer.ts";

// The parts, as the Python runtime (gpu-runner/model/fymnet/runtime/) splits them: torch/protocol.ts
// (frames and ops), torch/process.ts (the torch process), torch/held-tensors.ts (inputs sent once),
// torch/trainer.ts (batched LoRA training in the torch process); this file is the Engine over them.
export { findTorchPython, TorchEngineError } from "./torch/process.ts";
export { TORCH_OPS } from "./torch/protocol.ts";

export interface TorchEngineOptions {
  /** A Python with torch; default: MOTION_LORA_PYTHON, else the first of python3, /usr/bin/python3 that imports torch. */
  python?: string;
  artifacts?: string;
  device?: "auto" | "cuda" | "cpu";
  bf16?: boolean;
  compile?: boolean;
  /** Replay the training step and denoiser as CUDA graphs (default on CUDA; off gives plain eager). */
  cudaGraphs?: boolean;
  /** TF32 matmuls on CUDA (~3e-4 relative error): for benchmarks, not for parity with the ONNX graphs. */
  tf32?: boolean;
}

/** The torch process's command-line options for these engine options. */
function processArgs(weights: string, opts: TorchEngineOptions): string[] {
  const args = ["--weights", weights, "--device", opts.device ?? "auto"];
  if (opts.bf16) args.push("--bf16");
  if (opts.compile) args.push("--compile");
  if (opts.cudaGraphs === false) args.push("--no-cuda-graphs");
  if (opts.tf32) args.push("--tf32");
  return args;
}

/**
 * The FYM engine on PyTorch: one long-lived Python process, the torch process (gpu-runner/model/fymnet/runtime/process.py, the network
 * definition the ONNX graphs are exported from) holds the model on the GPU; tensors travel over its
 * stdin/stdout as safetensors frames. A crashed torch process fails the call in flight with its stderr
 * tail and is started again on the next call.
 */
export class TorchEngine implements Engine {
  name = "torch";
  device = "";
  private readonly torch: TorchProcess;

  private constructor(
    readonly manifest: Manifest,
    readonly tokenizer: Tokenizer,
    python: string,
    artifacts: string,
    opts: TorchEngineOptions,
  ) {
    this.torch = new TorchProcess(python, processArgs(join(artifacts, manifest.model.weights), opts), (ready) => this.started(ready));
  }

  /** Finds a torch-capable Python, loads the manifest and starts the torch process. */
  static async start(opts: TorchEngineOptions = {}): Promise<TorchEngine> {
    const dir = opts.artifacts ?? DEFAULT_ARTIFACTS;
    const found = opts.python ? { python: opts.python, cuda: false } : findTorchPython();
    if (!found)
      throw new TorchEngineError(
        "torch_unavailable",
        "the torch engine needs a Python with PyTorch (none of MOTION_LORA_PYTHON, python3, /usr/bin/python3 imports torch); install it or use --engine onnx",
      );
    const engine = new TorchEngine(await loadManifest(dir), Tokenizer.load(dir), found.python, dir, opts);
    await engine.torch.spawn();
    return engine;
  }

  /** The device and the name that says how it runs, from a (re)started torch process's ready frame. */
  private started(ready: Record<string, string>) {
    this.device = ready.device ?? "cpu";
    this.name = `torch:${this.device}${ready.cuda_graphs === "True" ? "+graphs" : ""}${ready.bf16 === "True" ? "+bf16" : ""}${ready.tf32 === "True" ? "+tf32" : ""}${ready.compile === "True" ? "+compile" : ""}`;
  }

  get config() {
    return this.manifest.model.config;
  }

  get base() {
    return { id: this.manifest.model.id, sha256: this.manifest.model.sha256 };
  }

  get sparseFrames() {
    return this.manifest.model.sparse_frames;
  }

  get pid() {
    return this.torch.pid;
  }

  /** Milliseconds the torch process spent on the last call (compute only, without transfer). */
  get lastProcessMs() {
    return this.torch.lastMs;
  }

  /** One request to the torch process, in order with the others. `fresh` names inputs that change every call. */
  private call(op: TorchOp, tensors: Tensors, extra: Record<string, string> = {}, fresh = new Set<string>()): Promise<Record<string, Float32Array>> {
    return this.torch.call(op, tensors, extra, fresh);
  }

  async encodeText(prompt: string) {
    const out = await this.call("text", { tokens: { data: this.tokenizer.encode(prompt), shape: [1, this.config.max_tokens] } });
    return { text: out.text!, mask: out.text_mask! };
  }

  async denoise(x: Float32Array, t: Float32Array, text: Float32Array, mask: Float32Array, framePos: Float32Array, slots: Slots) {
    const c = this.config;
    const out = await this.call("denoise", {
      x: { data: x, shape: [2, c.frames, 3, c.size, c.size] },
      t: { data: t, shape: [2] },
      text: { data: text, shape: [2, c.max_tokens, c.text_dim] },
      text_mask: { data: mask, shape: [2, c.max_tokens] },
      frame_pos: { data: framePos, shape: [framePos.length] },
      lora_A: { data: slots.A, shape: [c.lora_slots, c.depth, 4, c.lora_rank, c.dim] },
      lora_B: { data: slots.B, shape: [c.lora_slots, c.depth, 4, c.dim, c.lora_rank] },
      lora_scale: { data: slots.scale, shape: [c.lora_slots] },
    });
    return out.v!;
  }

  async probe(x: Float32Array, t: number, text: Float32Array, mask: Float32Array, framePos: Float32Array) {
    const c = this.config;
    const out = await this.call("probe", {
      x: { data: x, shape: [1, framePos.length, 3, c.size, c.size] },
      t: { data: Float32Array.of(t), shape: [1] },
      text: { data: text, shape: [1, c.max_tokens, c.text_dim] },
      text_mask: { data: mask, shape: [1, c.max_tokens] },
      frame_pos: { data: framePos, shape: [framePos.length] },
    });
    return out.similarities!;
  }

  async trainStep(_graph: TrainGraph, i: TrainStepInput): Promise<TrainStepOutput> {
    const c = this.config;
    const n = i.framePos.length;
    const a = [c.depth, 4, c.lora_rank, c.dim];
    const b = [c.depth, 4, c.dim, c.lora_rank];
    const out = await this.call("train", {
      x0: { data: i.x0, shape: [1, n, 3, c.size, c.size] },
      noise: { data: i.noise, shape: [1, n, 3, c.size, c.size] },
      t: { data: Float32Array.of(i.t), shape: [1] },
      text: { data: i.text, shape: [1, c.max_tokens, c.text_dim] },
      text_mask: { data: i.textMask, shape: [1, c.max_tokens] },
      frame_pos: { data: i.framePos, shape: [n] },
      frozen_A: { data: i.frozen.A, shape: a },
      frozen_B: { data: i.frozen.B, shape: b },
      frozen_scale: { data: Float32Array.of(i.frozen.scale), shape: [1] },
      lora_A: { data: i.lora.A, shape: a },
      lora_B: { data: i.lora.B, shape: b },
      lora_scale: { data: Float32Array.of(i.lora.scale), shape: [1] },
      loss_weights: { data: Float32Array.from(i.lossWeights), shape: [2] },
    });
    return { loss: out.loss![0]!, terms: [out.loss_terms![0]!, out.loss_terms![1]!], gradA: out.grad_A!, gradB: out.grad_B! };
  }

  /** Several generations' denoiser calls as one batch; each item's text and LoRA slots stay in the torch process between steps. */
  async denoiseMany(items: DenoiseItem[], framePos: Float32Array): Promise<Float32Array[]> {
    const c = this.config;
    const n = items.length;
    const per = c.frames * 3 * c.size * c.size;
    const x = new Float32Array(2 * n * per);
    for (const [i, it] of items.entries()) x.set(it.x, 2 * i * per);
    const tensors: Tensors = {
      x: { data: x, shape: [2 * n, c.frames, 3, c.size, c.size] },
      t: { data: Float32Array.from(items.flatMap((it) => [...it.t])), shape: [2 * n] },
      frame_pos: { data: framePos, shape: [framePos.length] },
    };
    items.forEach((it, i) => {
      tensors[`text.${i}`] = { data: it.text, shape: [2, c.max_tokens, c.text_dim] };
      tensors[`text_mask.${i}`] = { data: it.mask, shape: [2, c.max_tokens] };
      tensors[`lora_A.${i}`] = { data: it.slots.A, shape: [c.lora_slots, c.depth, 4, c.lora_rank, c.dim] };
      tensors[`lora_B.${i}`] = { data: it.slots.B, shape: [c.lora_slots, c.depth, 4, c.dim, c.lora_rank] };
      tensors[`lora_scale.${i}`] = { data: it.slots.scale, shape: [c.lora_slots] };
    });
    const v = (await this.call("denoise_many", tensors, {}, new Set(["x"]))).v!;
    return items.map((_, i) => v.subarray(2 * i * per, 2 * (i + 1) * per));
  }

  /** N LoRAs trained together in the torch process (torch/trainer.ts). */
  createTrainer(_graph: TrainGraph, frames: number, jobs: TrainerJob[], optim: SharedOptim): Promise<Trainer> {
    return createTorchTrainer(this.torch, this.config, frames, jobs, optim);
  }

  /** Stops the torch process (closing stdin lets it exit by itself; SIGKILL after `graceMs`). */
  close(graceMs = 5_000) {
    return this.torch.close(graceMs);
  }
}
