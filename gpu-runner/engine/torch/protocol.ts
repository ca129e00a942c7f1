// The torch process's wire format, the runner's end of gpu-runner/model/fymnet/runtime/protocol.py: every
// message, both ways, is one safetensors frame (8 bytes of header length, a JSON header whose
// `__metadata__` holds the op and its options, then the raw little-endian tensor bytes).
import { encodeSafetensors, type TensorData } from "../../../sdk/safetensors/encode.ts";
import { parseSafetensors } from "../../../sdk/safetensors/header.ts";

/** The requests the torch process serves (protocol.py OPS, checked at start-up). */
export const TORCH_OPS = ["text", "denoise", "denoise_many", "probe", "train", "trainer_init", "trainer_step", "trainer_weights", "trainer_free"] as const;
export type TorchOp = (typeof TORCH_OPS)[number];

export type Tensors = Record<string, { data: Float32Array | BigInt64Array; shape: number[] }>;

export interface Frame {
  meta: Record<string, string>;
  tensors: Record<string, Float32Array>;
}

export function encodeFrame(meta: Record<string, string>, tensors: Tensors): Uint8Array {
  const list: TensorData[] = Object.entries(tensors).map(([name, { data, shape }]) => {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { name, dtype: data instanceof BigInt64Array ? "I64" : "F32", shape, data: bytes };
  });
  return encodeSafetensors(list, meta);
}

export function decodeFrame(bytes: Uint8Array): Frame {
  const h = parseSafetensors(bytes);
  const tensors: Record<string, Float32Array> = {};
  for (const t of h.tensors) tensors[t.name] = new Float32Array(bytes.slice(h.dataStart + t.begin, h.dataStart + t.end).buffer);
  return { meta: h.metadata, tensors };
}

/** Cuts the torch process's stdout into whole frames, each handed to `onFrame` as it completes. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private frameSize: number | null = null;

  constructor(private readonly onFrame: (f: Frame) => void) {}

  push(b: Buffer) {
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
      this.onFrame(decodeFrame(frame));
    }
  }

  private peek(n: number): Uint8Array {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    const joined = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }
}
