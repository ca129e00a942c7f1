import type { GraphEntry } from "./manifest.ts";

/**
 * The deterministic inputs of gpu-runner/model/fymnet/export/golden.py, reproduced bit for bit, so CI
 * compares each graph's outputs with values recorded at export without shipping the inputs.
 */
export function goldenUniform(seed: number, n: number): Float32Array {
  let x = (Math.imul(seed, 2654435761) + 1) >>> 0 || 1;
  // Python computes (seed * 2654435761 + 1) mod 2^32 exactly; Math.imul wraps the same way.
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = (x / 4294967296) * 2 - 1;
  }
  return out;
}

/** Every input of a manifest graph, as recorded for its golden outputs, by name. */
export function goldenInputs(graph: GraphEntry, vocab: number): Record<string, Float32Array | BigInt64Array> {
  const feeds: Record<string, Float32Array | BigInt64Array> = {};
  for (const [i, s] of graph.inputs.entries()) feeds[s.name] = goldenInput(graph.golden.graph_index, i, s.name, s.shape, s.dtype, vocab);
  return feeds;
}

export function goldenInput(
  graphIndex: number,
  inputIndex: number,
  name: string,
  shape: number[],
  dtype: "float32" | "int64",
  vocab: number,
): Float32Array | BigInt64Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const seed = graphIndex * 1000 + inputIndex + 1;
  const last = shape[shape.length - 1] ?? 1;
  if (dtype === "int64") {
    const u = goldenUniform(seed, n);
    const ids = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const col = i % last;
      // float32 arithmetic as numpy does it, then floor
      const v = Math.floor(Math.fround(Math.fround((u[i]! + 1) / 2) * (vocab - 2))) + 2;
      ids[i] = BigInt(col === 0 ? 1 : col >= Math.floor(last / 2) ? 0 : v);
    }
    return ids;
  }
  if (name === "t") return new Float32Array(n).fill(0.35);
  if (name === "frame_pos") return Float32Array.from({ length: n }, (_, i) => i);
  if (name === "text_mask") return Float32Array.from({ length: n }, (_, i) => (i % last < Math.floor(last / 2) ? 1 : 0));
  if (name === "loss_weights") return Float32Array.from([1, 0.5]);
  if (name.endsWith("scale")) return new Float32Array(n).fill(0.5);
  const u = goldenUniform(seed, n);
  // numpy multiplies float32 by a float32-rounded scalar
  if (name.startsWith("lora") || name.startsWith("frozen")) for (let i = 0; i < n; i++) u[i] = Math.fround(u[i]! * Math.fround(0.05));
  return u;
}
