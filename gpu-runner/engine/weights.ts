import { readFile } from "node:fs/promises";
import { parseSafetensors } from "../../sdk/safetensors/header.ts";
import { ArtifactError } from "./manifest.ts";

/** IEEE half -> float, via a table of the 65,536 values (fast enough for ~5 M weights at load). */
let HALF: Float32Array | null = null;
function halfTable(): Float32Array {
  if (HALF) return HALF;
  HALF = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const f = h & 0x3ff;
    HALF[h] = e === 0 ? s * 2 ** -14 * (f / 1024) : e === 31 ? (f ? NaN : s * Infinity) : s * 2 ** (e - 15) * (1 + f / 1024);
  }
  return HALF;
}

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

/** Reads a safetensors file of F16/F32 tensors into float32 arrays, with its metadata. */
export async function readFloatTensors(path: string): Promise<{ tensors: Map<string, NamedTensor>; metadata: Record<string, string> }> {
  const bytes = new Uint8Array(await readFile(path));
  const header = parseSafetensors(bytes);
  const tensors = new Map<string, NamedTensor>();
  for (const t of header.tensors) {
    const start = header.dataStart + t.begin;
    const count = t.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    const view = new DataView(bytes.buffer, bytes.byteOffset + start, t.end - t.begin);
    if (t.dtype === "F16") {
      const table = halfTable();
      for (let i = 0; i < count; i++) data[i] = table[view.getUint16(2 * i, true)]!;
    } else if (t.dtype === "F32") {
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
    } else {
      throw new ArtifactError("artifact_corrupt", `tensor '${t.name}' is ${t.dtype}; expected F16 or F32`);
    }
    tensors.set(t.name, { shape: t.shape, data });
  }
  return { tensors, metadata: header.metadata };
}
