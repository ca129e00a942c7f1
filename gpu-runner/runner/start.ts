import { hostname } from "node:os";
import { join } from "node:path";
import { MotionLora } from "../../sdk/client/client.ts";
import { createEngine } from "../engine/create.ts";
import type { Engine } from "../engine/engine.ts";
import type { EngineKind, Provider } from "../engine/kinds.ts";
import { BlobCache } from "./cache.ts";
import { Executor } from "./execute.ts";
import { Runner } from "./runner.ts";

export interface StartRunnerOptions {
  registry: string;
  token: string;
  provider?: Provider;
  /** onnx (onnxruntime-node, every install), torch (PyTorch in a Python process, the torch process), or auto: torch when it sees CUDA. */
  engine?: EngineKind;
  concurrency?: number;
  idleExitMs?: number | null;
  cacheDir?: string;
  runnerId?: string;
  leaseSeconds?: number;
  /**
   * On an engine that batches (torch), how long a claimed tune or generation waits for others of its
   * kind to run beside it (default 250 ms: a job takes seconds, so the wait is small against what
   * batching saves); a batch holds up to `concurrency` jobs. 0 runs each alone.
   */
  batchWindowMs?: number;
  /** Transfer samples after each tune, scored against its reference (default DEFAULT_SAMPLES; 0: none). */
  samples?: number;
  log?: (entry: Record<string, unknown>) => void;
}

export const DEFAULT_BATCH_WINDOW_MS = 250;

/** Loads the model on the chosen provider and returns a runner ready to `run()`. */
export async function createRunner(o: StartRunnerOptions): Promise<{ runner: Runner; engine: Engine & { close?: () => Promise<void> } }> {
  // More retries than an interactive client: a runner outlives registry restarts.
  const client = new MotionLora({ baseUrl: o.registry, apiKey: o.token, maxRetries: 4, timeoutMs: 120_000 });
  const engine = await createEngine(o.engine ?? "onnx", o.provider ?? "cpu");
  const cache = new BlobCache(o.cacheDir ?? join(process.env.MOTION_LORA_HOME ?? ".motion-lora", "runner-cache"), client.blobs);
  const concurrency = o.concurrency ?? 1;
  const windowMs = o.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS;
  let runner: Runner | undefined;
  const batching =
    concurrency > 1 && windowMs > 0
      ? { windowMs, maxBatch: concurrency, onBatch: (kind: string, size: number) => runner?.log({ msg: `${kind} batch`, size }) }
      : undefined;
  runner = new Runner({
    client,
    executor: new Executor(engine, client, cache, batching, o.samples),
    runnerId: o.runnerId ?? `${hostname()}:${process.pid}`.slice(0, 64),
    ...(o.concurrency !== undefined && { concurrency: o.concurrency }),
    ...(o.idleExitMs !== undefined && { idleExitMs: o.idleExitMs }),
    ...(o.leaseSeconds !== undefined && { leaseSeconds: o.leaseSeconds }),
    ...(o.log && { log: o.log }),
  });
  return { runner, engine };
}

/** `motion-lora runner start`: runs until SIGTERM/SIGINT (releasing its jobs) or idle-exit. */
export async function runRunner(o: StartRunnerOptions): Promise<void> {
  const { runner, engine } = await createRunner(o);
  const stop = () => runner.stop();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  try {
    await runner.run();
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    await engine.close?.();
  }
}
