import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import { fileURLToPath } from "node:url";
import { delimiter, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { encodeSafetensors, type TensorData } from "../../sdk/safetensors/encode.ts";
import { parseSafetensors } from "../../sdk/safetensors/header.ts";
import { RunnerError } from "../core/errors.ts";
import type { DenoiseItem, Engine, SharedOptim, Slots, Trainer, TrainerJob, TrainerStep, TrainGraph, TrainStepInput, TrainStepOutput } from "./engine.ts";
import { DEFAULT_ARTIFACTS, loadManifest, type Manifest } from "./manifest.ts";
import { Tokenizer } from "./tokenizer.ts";

// The worker is a module of the fymnet package, run from the folder that holds the package.
const MODEL_DIR = fileURLToPath(new URL("../model/", import.meta.url));
const WORKER_MODULE = "fymnet.runtime.worker";
const STDERR_TAIL = 4_000;
// Inputs at least this many elements are worth caching on the worker (below, sending is cheaper than hashing).
const CACHE_MIN = 4_096;

/** A fast 32-bit checksum of a tensor's bytes: tells a held tensor from one changed in place. */
function checksum(a: Float32Array | BigInt64Array): number {
  const words = new Int32Array(a.buffer, a.byteOffset, a.byteLength >> 2);
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i]!, 0x01000193);
  return h >>> 0;
}

/** The torch engine cannot start or its worker died; `stderr` is the worker's last words. */
/** The requests the worker serves (gpu-runner/model/fymnet/runtime/protocol.py OPS, checked at start-up). */
export const WORKER_OPS = ["text", "denoise", "denoise_many", "probe", "train", "trainer_init", "trainer_step", "trainer_weights", "trainer_free"] as const;
type WorkerOp = (typeof WORKER_OPS)[number];

export class TorchEngineError extends RunnerError {
  override name = "TorchEngineError";
  declare readonly code: "torch_unavailable" | "worker_crashed" | "worker_error";
  constructor(
    code: TorchEngineError["code"],
    message: string,
    readonly stderr = "",
  ) {
    super(code, stderr ? `${message}\n--- worker stderr (tail) ---\n${stderr}` : message);
  }
}

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

type Tensors = Record<string, { data: Float32Array | BigInt64Array; shape: number[] }>;

function catArrays(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The first Python that has torch installed; with `probeCuda`, also whether it sees a GPU (that
 * imports torch and initialises CUDA, seconds, so only engine auto-selection asks).
 */
export function findTorchPython(
  probeCuda = false,
  candidates = [process.env.MOTION_LORA_PYTHON, "python3", "/usr/bin/python3"],
): { python: string; cuda: boolean } | null {
  const code = probeCuda ? "import torch; print(torch.cuda.is_available())" : "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)";
  for (const python of candidates) {
    if (!python) continue;
    const r = spawnSync(python, ["-c", code], { encoding: "utf8", timeout: 60_000 });
    if (r.status === 0) return { python, cuda: r.stdout.trim() === "True" };
  }
  return null;
}

/**
 * The FYM engine on PyTorch: one long-lived Python worker (gpu-runner/model/fymnet/runtime/worker.py, the network
 * definition the ONNX graphs are exported from) holds the model on the GPU; tensors travel over its
 * stdin/stdout as safetensors frames. A crashed worker fails the call in flight with its stderr
 * tail and is started again on the next call.
 */
export class TorchEngine implements Engine {
  name = "torch";
  device = "";
  /** Worker-side milliseconds of the last call (compute only, without transfer). */
  lastWorkerMs = 0;
  private child: ChildProcessByStdio<Writable, Readable, Readable> | null = null;
  private stderr = "";
  private chunks: Buffer[] = [];
  private buffered = 0;
  private frameSize: number | null = null;
  /** Tensors the worker holds (by this array object and its checksum), so they are sent once. */
  private held = new WeakMap<Float32Array | BigInt64Array, { key: string; sum: number }>();
  private workerGeneration = 0;
  private pending: { resolve: (f: Frame) => void; reject: (e: Error) => void } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private seq = 0;
  private readonly onExit = () => this.child?.kill("SIGKILL");

  private constructor(
    readonly manifest: Manifest,
    readonly tokenizer: Tokenizer,
    private readonly python: string,
    private readonly opts: TorchEngineOptions,
  ) {}

  /** Finds a torch-capable Python, loads the manifest and starts the worker. */
  static async start(opts: TorchEngineOptions = {}): Promise<TorchEngine> {
    const dir = opts.artifacts ?? DEFAULT_ARTIFACTS;
    const found = opts.python ? { python: opts.python, cuda: false } : findTorchPython();
    if (!found)
      throw new TorchEngineError(
        "torch_unavailable",
        "the torch engine needs a Python with PyTorch (none of MOTION_LORA_PYTHON, python3, /usr/bin/python3 imports torch); install it or use --engine onnx",
      );
    const engine = new TorchEngine(await loadManifest(dir), Tokenizer.load(dir), found.python, { ...opts, artifacts: dir });
    await engine.spawn();
    return engine;
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
    return this.child?.pid ?? null;
  }

  private async spawn() {
    const args = ["-m", WORKER_MODULE, "--weights", join(this.opts.artifacts!, this.manifest.model.weights), "--device", this.opts.device ?? "auto"];
    if (this.opts.bf16) args.push("--bf16");
    if (this.opts.compile) args.push("--compile");
    if (this.opts.cudaGraphs === false) args.push("--no-cuda-graphs");
    if (this.opts.tf32) args.push("--tf32");
    const pythonPath = [MODEL_DIR, process.env.PYTHONPATH].filter(Boolean).join(delimiter);
    const child = spawn(this.python, args, { stdio: ["pipe", "pipe", "pipe"], cwd: MODEL_DIR, env: { ...process.env, PYTHONPATH: pythonPath } });
    this.child = child;
    this.stderr = "";
    this.chunks = [];
    this.buffered = 0;
    this.frameSize = null;
    this.held = new WeakMap();
    this.workerGeneration++;
    process.once("exit", this.onExit);
    child.stderr.on("data", (b: Buffer) => (this.stderr = (this.stderr + b.toString()).slice(-STDERR_TAIL)));
    child.stdout.on("data", (b: Buffer) => this.onData(b));
    child.stdin.on("error", () => {}); // a dead worker is reported by 'exit'
    child.on("exit", (code, signal) => {
      process.off("exit", this.onExit);
      if (this.child === child) this.child = null;
      const p = this.pending;
      this.pending = null;
      p?.reject(new TorchEngineError("worker_crashed", `the torch worker exited (code ${code}, signal ${signal}) during a call`, this.stderr.trim()));
    });
    const ready = await this.next();
    const ops = ready.meta.ops?.split(",") ?? [];
    if (ops.join() !== WORKER_OPS.join()) {
      await this.close();
      throw new TorchEngineError(
        "worker_error",
        `the torch worker speaks ops ${ops.join(", ") || "(none listed)"}, this runner ${WORKER_OPS.join(", ")}: the runner and gpu-runner/model are from different versions`,
      );
    }
    this.device = ready.meta.device ?? "cpu";
    this.name = `torch:${this.device}${ready.meta.cuda_graphs === "True" ? "+graphs" : ""}${ready.meta.bf16 === "True" ? "+bf16" : ""}${ready.meta.tf32 === "True" ? "+tf32" : ""}${ready.meta.compile === "True" ? "+compile" : ""}`;
  }

  private onData(b: Buffer) {
    // Chunks are kept as they come and joined once a whole frame is there: a reply of several
    // hundred KB arrives in 64 KB pieces, and joining per piece would copy it quadratically.
    this.chunks.push(b);
    this.buffered += b.length;
    for (;;) {
      if (this.buffered < 8) return;
      const head = this.peek(8);
      const n = Number(new DataView(head.buffer, head.byteOffset).getBigUint64(0, true));
      if (this.buffered < 8 + n) return;
      if (this.frameSize === null) {
        const header = JSON.parse(new TextDecoder().decode(this.peek(8 + n).subarray(8))) as Record<string, { data_offsets?: [number, number] }>;
        this.frameSize =
          8 +
          n +
          Math.max(
            0,
            ...Object.entries(header)
              .filter(([k]) => k !== "__metadata__")
              .map(([, v]) => v.data_offsets![1]),
          );
      }
      if (this.buffered < this.frameSize) return;
      const all = Buffer.concat(this.chunks, this.buffered);
      const frame = new Uint8Array(all.buffer, all.byteOffset, this.frameSize);
      const rest = all.subarray(this.frameSize);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
      this.frameSize = null;
      const p = this.pending;
      this.pending = null;
      p?.resolve(decodeFrame(frame));
    }
  }

  private peek(n: number): Uint8Array {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    const joined = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  private next(): Promise<Frame> {
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }));
  }

  /**
   * One request at a time, in order; the worker is restarted first if it died. `fresh` names
   * inputs that change every call (not worth holding on the worker).
   */
  private call(op: WorkerOp, tensors: Tensors, extra: Record<string, string> = {}, fresh = new Set<string>()): Promise<Record<string, Float32Array>> {
    const run = async () => {
      if (!this.child) await this.spawn();
      // Large inputs that are the same array with the same contents as an earlier call (the frozen
      // LoRA, the text embedding, the LoRA slots of a generation) stay on the GPU and are not re-sent.
      const send: Tensors = {};
      const store: Record<string, string> = {};
      const cached: Record<string, string> = {};
      for (const [name, t] of Object.entries(tensors)) {
        if (t.data.length < CACHE_MIN || fresh.has(name)) {
          send[name] = t;
          continue;
        }
        const sum = checksum(t.data);
        const held = this.held.get(t.data);
        if (held && held.sum === sum) cached[name] = held.key;
        else {
          const key = `${this.workerGeneration}:${++this.seq}`;
          this.held.set(t.data, { key, sum });
          store[name] = key;
          send[name] = t;
        }
      }
      const meta: Record<string, string> = { ...extra, op, id: String(++this.seq) };
      if (Object.keys(store).length) meta.store = JSON.stringify(store);
      if (Object.keys(cached).length) meta.cached = JSON.stringify(cached);
      const frame = encodeFrame(meta, send);
      const reply = this.next();
      this.child!.stdin.write(frame);
      const f = await reply;
      if (f.meta.ok !== "1") {
        // The worker dropped a held tensor (its cache is bounded): forget ours and send in full.
        if (f.meta.error?.includes("cached tensor")) {
          this.held = new WeakMap();
          return run();
        }
        throw new TorchEngineError("worker_error", `torch worker: ${op} failed: ${f.meta.error}`, this.stderr.trim());
      }
      this.lastWorkerMs = Number(f.meta.ms);
      return f.tensors;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
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

  /**
   * N LoRAs trained on the worker: weights, AdamW state and reference clips stay on the device, a
   * step sends frame indices, positions, timesteps and noise seeds (gpu-runner/model/fymnet/training/trainer_group.py).
   */
  async createTrainer(_graph: TrainGraph, frames: number, jobs: TrainerJob[], optim: SharedOptim): Promise<Trainer> {
    const c = this.config;
    const n = jobs.length;
    // Samples a step per LoRA (TrainerJob.samples): a step sends R = Σk rows, each LoRA's one after another.
    const ks = jobs.map((j) => j.samples ?? 1);
    for (const k of ks) if (!Number.isInteger(k) || k < 1) throw new RangeError(`samples per step must be an integer ≥ 1, got ${k}`);
    const R = ks.reduce((s, k) => s + k, 0);
    const id = `trainer-${++this.seq}`;
    const cat = (get: (j: TrainerJob, i: number) => Float32Array) => catArrays(jobs.map(get));
    const a = [n, c.depth, 4, c.lora_rank, c.dim];
    const b = [n, c.depth, 4, c.dim, c.lora_rank];
    const all = new Set(["clips", "text", "frozen_A", "frozen_B", "lora_A", "lora_B", "mask_A", "mask_B"]);
    const generation = this.workerGeneration;
    // Appearance banks (TrainerJob.texts): V clips and captions per LoRA, a job with
    // fewer padded with its original (never picked); without banks V = 1 and the tensors are as before.
    const banks = jobs.map((j) => j.texts ?? [{ text: j.text, mask: j.textMask }]);
    const V = Math.max(...banks.map((k) => k.length));
    const per = c.frames * 3 * c.size * c.size;
    const pad = <T>(xs: T[]) => Array.from({ length: V }, (_, v) => xs[v] ?? xs[0]!);
    const bankClip = (j: TrainerJob, i: number) => {
      if (j.clip.data.length !== banks[i]!.length * per)
        throw new RangeError(`a bank of ${banks[i]!.length} captions needs ${banks[i]!.length * c.frames} frames, got ${j.clip.frames}`);
      const out = new Float32Array(V * per);
      out.set(j.clip.data);
      for (let v = banks[i]!.length; v < V; v++) out.set(j.clip.data.subarray(0, per), v * per);
      return out;
    };
    await this.call(
      "trainer_init",
      {
        clips: { data: cat(bankClip), shape: [n, V * c.frames, 3, c.size, c.size] },
        text: { data: cat((_, i) => catArrays(pad(banks[i]!).map((k) => k.text))), shape: [n, V, c.max_tokens, c.text_dim] },
        text_mask: { data: cat((_, i) => catArrays(pad(banks[i]!).map((k) => k.mask))), shape: [n, V, c.max_tokens] },
        frozen_A: { data: cat((j) => j.frozen.A), shape: a },
        frozen_B: { data: cat((j) => j.frozen.B), shape: b },
        frozen_scale: { data: Float32Array.from(jobs, (j) => j.frozen.scale), shape: [n] },
        lora_A: { data: cat((j) => j.init.A), shape: a },
        lora_B: { data: cat((j) => j.init.B), shape: b },
        lora_scale: { data: Float32Array.from(jobs, (j) => j.scale), shape: [n] },
        mask_A: { data: cat((j) => Float32Array.from(j.masks.A)), shape: a },
        mask_B: { data: cat((j) => Float32Array.from(j.masks.B)), shape: b },
        lr: { data: Float32Array.from(jobs, (j) => j.lr), shape: [n] },
        warmup_steps: { data: Float32Array.from(jobs, (j) => j.warmupSteps), shape: [n] },
        loss_weights: { data: Float32Array.from(jobs.flatMap((j) => j.lossWeights)), shape: [n, 2] },
        ...(R !== n && { samples: { data: Float32Array.from(ks), shape: [n] } }),
      },
      {
        trainer: id,
        hp: JSON.stringify({ weight_decay: optim.weightDecay, beta1: optim.betas[0], beta2: optim.betas[1], eps: optim.eps, clip_norm: optim.clipNorm }),
      },
      all,
    );
    const alive = () => {
      if (this.workerGeneration !== generation)
        throw new TorchEngineError("worker_crashed", "the torch worker was restarted and lost this trainer's LoRAs; tune again");
    };
    return {
      size: n,
      step: async (steps: TrainerStep[]) => {
        alive();
        if (steps.length !== R) throw new RangeError(`a step of this trainer takes ${R} samples (${ks.join(" + ")}), got ${steps.length}`);
        const out = await this.call(
          "trainer_step",
          {
            frames: { data: Float32Array.from(steps.flatMap((s) => s.frames)), shape: [R, frames] },
            frame_pos: { data: Float32Array.from(steps.flatMap((s) => [...s.framePos])), shape: [R, frames] },
            t: { data: Float32Array.from(steps, (s) => s.t), shape: [R] },
            seeds: { data: BigInt64Array.from(steps, (s) => BigInt(s.seed)), shape: [R] },
            ...(V > 1 && {
              variant: { data: Float32Array.from(steps, (s) => s.variant ?? 0), shape: [R] },
              frozen_gain: { data: Float32Array.from(steps, (s) => s.frozenGain ?? 1), shape: [R] },
            }),
          },
          { trainer: id },
        );
        return jobs.map((_, i) => ({ loss: out.loss![i]!, terms: [out.loss_terms![2 * i]!, out.loss_terms![2 * i + 1]!] as [number, number] }));
      },
      weights: async () => {
        alive();
        const out = await this.call("trainer_weights", {}, { trainer: id });
        const per = (x: Float32Array) => jobs.map((_, i) => x.slice((i * x.length) / n, ((i + 1) * x.length) / n));
        const A = per(out.lora_A!);
        const B = per(out.lora_B!);
        return jobs.map((_, i) => ({ A: A[i]!, B: B[i]! }));
      },
      close: async () => {
        if (this.workerGeneration === generation && this.child) await this.call("trainer_free", {}, { trainer: id }).catch(() => {});
      },
    };
  }

  /** Several generations' denoiser calls as one batch; each item's text and LoRA slots stay on the worker between steps. */
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

  /** Stops the worker (closing stdin lets it exit by itself; SIGKILL after `graceMs`). */
  async close(graceMs = 5_000) {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
    child.stdin.end();
    const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(t);
  }
}

interface Frame {
  meta: Record<string, string>;
  tensors: Record<string, Float32Array>;
}

function encodeFrame(meta: Record<string, string>, tensors: Tensors): Uint8Array {
  const list: TensorData[] = Object.entries(tensors).map(([name, { data, shape }]) => {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { name, dtype: data instanceof BigInt64Array ? "I64" : "F32", shape, data: bytes };
  });
  return encodeSafetensors(list, meta);
}

function decodeFrame(bytes: Uint8Array): Frame {
  const h = parseSafetensors(bytes);
  const tensors: Record<string, Float32Array> = {};
  for (const t of h.tensors) tensors[t.name] = new Float32Array(bytes.slice(h.dataStart + t.begin, h.dataStart + t.end).buffer);
  return { meta: h.metadata, tensors };
}
