import ort from "onnxruntime-node";
import { cpus } from "node:os";
import { join } from "node:path";
import { RunnerError } from "../core/errors.ts";
import { loadManifest, DEFAULT_ARTIFACTS, GRAPH_NAMES, type GraphName, type Manifest } from "./manifest.ts";
import { ProviderError, sessionOptions, type Provider } from "./providers.ts";
import { Tokenizer } from "./tokenizer.ts";
import { readFloatTensors, type NamedTensor } from "./weights.ts";

export type Feed = Float32Array | BigInt64Array;

/**
 * The base model as ONNX sessions: weights are read once and fed to every graph as inputs, so one
 * weights file serves all graphs. Sessions are created on first use, or all at once by `open()`.
 */
export class OnnxModel {
  private readonly sessions = new Map<GraphName, Promise<ort.InferenceSession>>();
  private readonly created = new Set<GraphName>();
  private readonly weightTensors = new Map<string, ort.Tensor>();

  private constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    readonly tokenizer: Tokenizer,
    readonly provider: Provider,
    private readonly threads: number,
    private readonly spinning: boolean,
    weights: Map<string, NamedTensor>,
  ) {
    for (const [name, t] of weights) this.weightTensors.set(name, new ort.Tensor("float32", t.data, t.shape));
  }

  /**
   * Loads and verifies the artifacts (sha256 of every file) and the weights. `spinning` defaults to
   * on unless MOTION_LORA_ORT_SPINNING=0 (the test runner sets it: it runs two files at once).
   */
  static async load(opts: { dir?: string; provider?: Provider; threads?: number; spinning?: boolean; verify?: boolean } = {}): Promise<OnnxModel> {
    const dir = opts.dir ?? DEFAULT_ARTIFACTS;
    const manifest = await loadManifest(dir, { verify: opts.verify ?? true });
    const { tensors } = await readFloatTensors(join(dir, manifest.model.weights));
    return new OnnxModel(
      dir,
      manifest,
      Tokenizer.load(dir),
      opts.provider ?? "cpu",
      opts.threads ?? Math.min(cpus().length, 8),
      opts.spinning ?? process.env.MOTION_LORA_ORT_SPINNING !== "0",
      tensors,
    );
  }

  get config() {
    return this.manifest.model.config;
  }

  session(name: GraphName): Promise<ort.InferenceSession> {
    let s = this.sessions.get(name);
    if (!s) {
      s = ort.InferenceSession.create(join(this.dir, this.manifest.graphs[name].file), sessionOptions(this.provider, this.threads, this.spinning)).catch(
        (e: unknown) => {
          this.sessions.delete(name);
          throw new ProviderError(this.provider, e);
        },
      );
      this.sessions.set(name, s);
      void s.then(
        () => this.created.add(name),
        () => {},
      );
    }
    return s;
  }

  /**
   * Creates every graph's session now. onnxruntime-node creates one on the calling thread (0.1–1.8 s
   * each at load 6), so a runner opens them before its first claim rather than inside a job, where
   * that time would hold up its heartbeats.
   */
  async open(): Promise<void> {
    for (const name of GRAPH_NAMES) await this.session(name);
  }

  /** The graphs whose session exists. */
  opened(): GraphName[] {
    return GRAPH_NAMES.filter((n) => this.created.has(n));
  }

  /** Runs a graph: `inputs` by name (shapes from the manifest); weights are added automatically. */
  async run(name: GraphName, inputs: Record<string, Feed>): Promise<Record<string, Float32Array>> {
    const graph = this.manifest.graphs[name];
    const session = await this.session(name);
    const feeds: Record<string, ort.Tensor> = {};
    for (const w of graph.weights) feeds[w] = this.weightTensors.get(w)!;
    for (const spec of graph.inputs) {
      if (!spec.used) continue;
      const data = inputs[spec.name];
      if (!data) throw new RunnerError("runner_error", `graph ${name}: missing input '${spec.name}'`);
      const want = spec.shape.reduce((a, b) => a * b, 1);
      if (data.length !== want)
        throw new RunnerError("runner_error", `graph ${name}: input '${spec.name}' has ${data.length} values, expected ${want} (shape [${spec.shape}])`);
      feeds[spec.name] = new ort.Tensor(spec.dtype, data, spec.shape);
    }
    const out = await session.run(feeds);
    // onnxruntime-node runs a graph on this thread, blocking the event loop for the whole step: let
    // the I/O that arrived meanwhile (a heartbeat's answer saying the job was canceled) be handled
    // before the caller decides whether to run the next step, not one step later.
    await new Promise((ok) => setImmediate(ok));
    const result: Record<string, Float32Array> = {};
    for (const o of graph.outputs) result[o.name] = out[o.name]!.data as Float32Array;
    return result;
  }

  async release(): Promise<void> {
    for (const s of this.sessions.values()) await (await s.catch(() => null))?.release();
    this.sessions.clear();
    this.created.clear();
  }
}
