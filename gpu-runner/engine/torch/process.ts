// The torch process: the long-lived Python process that serves the torch engine, found, started,
// called one request at a time, restarted when it dies (gpu-runner/model/fymnet/runtime/process.py is
// the other end).
import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import { delimiter } from "node:path";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { RunnerError } from "../../core/errors.ts";
import { HeldTensors } from "./held-tensors.ts";
import { encodeFrame, FrameReader, type Frame, type Tensors, TORCH_OPS, type TorchOp } from "./protocol.ts";

// The torch process runs a module of the fymnet package, run from the folder that holds the package.
const MODEL_DIR = fileURLToPath(new URL("../../model/", import.meta.url));
const PROCESS_MODULE = "fymnet.runtime.process";
const STDERR_TAIL = 4_000;

/** The torch engine cannot start, or its torch process died or failed a call; `stderr` is the process's last words. */
export class TorchEngineError extends RunnerError {
  override name = "TorchEngineError";
  declare readonly code: "torch_unavailable" | "engine_crashed" | "engine_error";
  constructor(
    code: TorchEngineError["code"],
    message: string,
    readonly stderr = "",
  ) {
    super(code, stderr ? `${message}\n--- torch process stderr (tail) ---\n${stderr}` : message);
  }
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

/** The one long-lived torch process; `args` are its command-line options; `onStart` hears each start's ready metadata. */
export class TorchProcess {
  /** Milliseconds the torch process spent on the last call (compute only, without transfer). */
  lastMs = 0;
  /** Counts starts: a trainer made by an earlier start is gone. */
  generation = 0;
  private child: ChildProcessByStdio<Writable, Readable, Readable> | null = null;
  private stderr = "";
  private reader = new FrameReader(() => {});
  private held = new HeldTensors();
  private pending: { resolve: (f: Frame) => void; reject: (e: Error) => void } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private seq = 0;
  private readonly onExit = () => this.child?.kill("SIGKILL");

  constructor(
    private readonly python: string,
    private readonly args: string[],
    private readonly onStart: (ready: Record<string, string>) => void,
  ) {}

  get pid() {
    return this.child?.pid ?? null;
  }

  /** A number no earlier request or trainer of this engine used. */
  nextId() {
    return ++this.seq;
  }

  /** Starts the torch process and checks, from its ready frame, that it speaks our ops. */
  async spawn(): Promise<void> {
    const pythonPath = [MODEL_DIR, process.env.PYTHONPATH].filter(Boolean).join(delimiter);
    const child = spawn(this.python, ["-m", PROCESS_MODULE, ...this.args], {
      stdio: ["pipe", "pipe", "pipe"],
      cwd: MODEL_DIR,
      env: { ...process.env, PYTHONPATH: pythonPath },
    });
    this.child = child;
    this.stderr = "";
    this.reader = new FrameReader((f) => {
      const p = this.pending;
      this.pending = null;
      p?.resolve(f);
    });
    this.held.forget();
    this.generation++;
    process.once("exit", this.onExit);
    child.stderr.on("data", (b: Buffer) => (this.stderr = (this.stderr + b.toString()).slice(-STDERR_TAIL)));
    child.stdout.on("data", (b: Buffer) => this.reader.push(b));
    child.stdin.on("error", () => {}); // a dead process is reported by 'exit'
    child.on("exit", (code, signal) => {
      process.off("exit", this.onExit);
      if (this.child === child) this.child = null;
      const p = this.pending;
      this.pending = null;
      p?.reject(new TorchEngineError("engine_crashed", `the torch process exited (code ${code}, signal ${signal}) during a call`, this.stderr.trim()));
    });
    const ready = await this.next();
    const ops = ready.meta.ops?.split(",") ?? [];
    if (ops.join() !== TORCH_OPS.join()) {
      await this.close();
      throw new TorchEngineError(
        "engine_error",
        `the torch process speaks ops ${ops.join(", ") || "(none listed)"}, this runner ${TORCH_OPS.join(", ")}: the runner and gpu-runner/model are from different versions`,
      );
    }
    this.onStart(ready.meta);
  }

  private next(): Promise<Frame> {
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }));
  }

  /**
   * One request at a time, in order; the process is restarted first if it died. `fresh` names
   * inputs that change every call (not worth holding in the process).
   */
  call(op: TorchOp, tensors: Tensors, extra: Record<string, string> = {}, fresh = new Set<string>()): Promise<Record<string, Float32Array>> {
    const run = async () => {
      if (!this.child) await this.spawn();
      const { send, store, cached } = this.held.split(tensors, fresh, () => `${this.generation}:${this.nextId()}`);
      const meta: Record<string, string> = { ...extra, op, id: String(this.nextId()) };
      if (Object.keys(store).length) meta.store = JSON.stringify(store);
      if (Object.keys(cached).length) meta.cached = JSON.stringify(cached);
      const frame = encodeFrame(meta, send);
      const reply = this.next();
      this.child!.stdin.write(frame);
      const f = await reply;
      if (f.meta.ok !== "1") {
        // The process dropped a held tensor (its cache is bounded): forget ours and send in full.
        if (f.meta.error?.includes("cached tensor")) {
          this.held.forget();
          return run();
        }
        throw new TorchEngineError("engine_error", `torch process: ${op} failed: ${f.meta.error}`, this.stderr.trim());
      }
      this.lastMs = Number(f.meta.ms);
      return f.tensors;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
  }

  /** Stops the process (closing stdin lets it exit by itself; SIGKILL after `graceMs`). */
  async close(graceMs = 5_000) {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
    child.stdin.end();
    const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(t);
  }

  get alive() {
    return this.child !== null;
  }
}
