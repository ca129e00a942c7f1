import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as z from "zod";
import { RunnerError } from "../errors.ts";
import { ModelConfig } from "./config.ts";

const TensorSpec = z.object({ name: z.string(), dtype: z.enum(["float32", "int64"]), shape: z.array(z.number().int()), used: z.boolean() });
const OutputSummary = z.object({
  shape: z.array(z.number().int()),
  sum: z.number(),
  abs_sum: z.number(),
  indices: z.array(z.number().int()),
  values: z.array(z.number()),
});

export const GraphEntry = z.object({
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int(),
  onnx_nodes: z.number().int(),
  weights: z.array(z.string()),
  inputs: z.array(TensorSpec),
  outputs: z.array(z.object({ name: z.string(), shape: z.array(z.number().int()) })),
  golden: z.object({ graph_index: z.number().int(), outputs: z.record(z.string(), OutputSummary) }),
});
export type GraphEntry = z.infer<typeof GraphEntry>;

export const GRAPH_NAMES = ["text_encoder", "denoiser", "attention_probe", "train_step_spatial", "train_step_sparse", "train_step_dense"] as const;
export type GraphName = (typeof GRAPH_NAMES)[number];

export const Manifest = z.object({
  format: z.literal(1),
  model: z
    .object({
      id: z.string(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      config: ModelConfig,
      weights: z.string(),
      vocab: z.string(),
      vocab_sha256: z.string().regex(/^[0-9a-f]{64}$/),
      grammar: z.string().optional(),
      grammar_sha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional(),
      sparse_frames: z.number().int(),
    })
    .passthrough(),
  training: z.record(z.string(), z.unknown()),
  graphs: z.object(Object.fromEntries(GRAPH_NAMES.map((n) => [n, GraphEntry])) as Record<GraphName, typeof GraphEntry>),
});
export type Manifest = z.infer<typeof Manifest>;

/** The bundled artifacts (ONNX graphs, weights, vocabulary), made by `python -m fymnet.export` (gpu-runner/model/fymnet/export/). */
export const DEFAULT_ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;

/** The bundled artifacts are missing, altered or inconsistent: the runner's install, not the job. */
export class ArtifactError extends RunnerError {
  override name = "ArtifactError";
  declare readonly code: "artifact_missing" | "artifact_corrupt" | "manifest_invalid";
  constructor(code: ArtifactError["code"], message: string) {
    super(code, message);
  }
}

async function sha256(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

/** Reads and validates manifest.json, and checks every file against its recorded sha256. */
export async function loadManifest(dir = DEFAULT_ARTIFACTS, { verify = true } = {}): Promise<Manifest> {
  let raw: string;
  try {
    raw = await readFile(join(dir, "manifest.json"), "utf8");
  } catch {
    throw new ArtifactError("artifact_missing", `no manifest.json in ${dir}; regenerate the artifacts with gpu-runner/model/run_gpu.sh`);
  }
  const parsed = Manifest.safeParse(JSON.parse(raw));
  if (!parsed.success)
    throw new ArtifactError("manifest_invalid", `manifest.json: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`);
  const m = parsed.data;
  if (verify) {
    const files: [string, string][] = [
      [m.model.weights, m.model.sha256],
      [m.model.vocab, m.model.vocab_sha256],
      ...(m.model.grammar && m.model.grammar_sha256 ? [[m.model.grammar, m.model.grammar_sha256] as [string, string]] : []),
      ...Object.values(m.graphs).map((g) => [g.file, g.sha256] as [string, string]),
    ];
    for (const [file, expected] of files) {
      const got = await sha256(join(dir, file)).catch(() => {
        throw new ArtifactError("artifact_missing", `${file} is missing from ${dir}`);
      });
      if (got !== expected)
        throw new ArtifactError("artifact_corrupt", `${file} has sha256 ${got}, the manifest says ${expected}; the artifact set is inconsistent`);
    }
  }
  return m;
}
