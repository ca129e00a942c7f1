import * as z from "zod";

// The artifacts' manifest.json, written by the Python export (gpu-runner/model/fymnet/export/) and read
// by the runner (the graphs it loads) and the registry (the model's limits). Defined once, here; the
// JSON Schema beside it (manifest.schema.json, made from this) is what the Python export is tested
// against. Internal: shared by the parts, not promised to SDK users.

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/** The network's hyper-parameters, as export writes them into the manifest. */
export const ModelConfig = z.object({
  frames: z.number().int(),
  size: z.number().int(),
  patch: z.number().int(),
  dim: z.number().int(),
  depth: z.number().int(),
  heads: z.number().int(),
  mlp_ratio: z.number().int(),
  text_dim: z.number().int(),
  text_layers: z.number().int(),
  text_heads: z.number().int(),
  vocab: z.number().int(),
  max_tokens: z.number().int(),
  lora_rank: z.number().int(),
  lora_slots: z.number().int(),
});
export type ModelConfig = z.infer<typeof ModelConfig>;

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
  sha256: Sha256,
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
      sha256: Sha256,
      config: ModelConfig,
      weights: z.string(),
      vocab: z.string(),
      vocab_sha256: Sha256,
      grammar: z.string().optional(),
      grammar_sha256: Sha256.optional(),
      /** Frames a sparse training step takes (the sparse graph's input). */
      sparse_frames: z.number().int(),
    })
    .passthrough(),
  training: z.record(z.string(), z.unknown()),
  graphs: z.object(Object.fromEntries(GRAPH_NAMES.map((n) => [n, GraphEntry])) as Record<GraphName, typeof GraphEntry>),
});
export type Manifest = z.infer<typeof Manifest>;

/** The JSON Schema the Python export's manifest is checked against (manifest.schema.json is this, committed). */
export const manifestJsonSchema = () => z.toJSONSchema(Manifest, { target: "draft-2020-12", io: "input" });
