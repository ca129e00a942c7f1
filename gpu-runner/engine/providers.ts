import type ort from "onnxruntime-node";
import { RunnerError } from "../core/errors.ts";

import type { Provider } from "./kinds.ts";

export type { Provider } from "./kinds.ts";

/** The execution provider could not start on this machine; another runner may have it. */
export class ProviderError extends RunnerError {
  override name = "ProviderError";
  declare readonly code: "provider_unavailable";
  constructor(
    readonly provider: Provider,
    cause: unknown,
  ) {
    super(
      "provider_unavailable",
      `the '${provider}' execution provider could not start (${String((cause as Error)?.message ?? cause).split("\n")[0]}); ` +
        (provider === "cuda"
          ? "install onnxruntime-node's CUDA 12 binaries (ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node) or use --provider cpu"
          : provider === "webgpu"
            ? "it needs a Vulkan loader and a GPU driver; use --provider cpu"
            : "reinstall onnxruntime-node"),
    );
  }
}

/**
 * Session options for a provider; CPU gets one intra-op thread per core (2 on this project's
 * machines). Its threads spin between parallel sections unless `spinning` is false: a dense
 * training step took 542–618 ms spinning against 579–762 without, alone on 2 cores, but
 * 1,270–1,319 against 1,017–1,061 with two processes sharing them (ad-hoc, medians of 8, 2026-12-03).
 */
export function sessionOptions(provider: Provider, threads?: number, spinning = true): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: "all",
    ...(provider === "cpu" && threads ? { intraOpNumThreads: threads } : {}),
    ...(provider === "cpu" && !spinning ? { extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } } } : {}),
  };
}
