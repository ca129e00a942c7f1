import type { Frames } from "./frames.ts";
import { type Indexed, quantise } from "./palette.ts";

function lzwEncode(indices: Uint8Array, minCodeSize: number): Uint8Array {
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const out: number[] = [];
  let bitBuf = 0;
  let bitLen = 0;
  let codeSize = minCodeSize + 1;
  const emit = (code: number) => {
    bitBuf |= code << bitLen;
    bitLen += codeSize;
    while (bitLen >= 8) {
      out.push(bitBuf & 0xff);
      bitBuf >>>= 8;
      bitLen -= 8;
    }
  };
  let dict = new Map<number, number>();
  let next = end + 1;
  emit(clear);
  let prefix = indices[0]!;
  for (let i = 1; i < indices.length; i++) {
    const k = indices[i]!;
    const key = (prefix << 8) | k;
    const hit = dict.get(key);
    if (hit !== undefined) {
      prefix = hit;
      continue;
    }
    emit(prefix);
    if (next < 4096) {
      dict.set(key, next++);
      if (next > 1 << codeSize && codeSize < 12) codeSize++;
    } else {
      emit(clear);
      dict = new Map();
      next = end + 1;
      codeSize = minCodeSize + 1;
    }
    prefix = k;
  }
  emit(prefix);
  emit(end);
  if (bitLen > 0) out.push(bitBuf & 0xff);
  return Uint8Array.from(out);
}

/**
 * Frames -> an animated, looping GIF, each frame scaled up `scale`×, shown `delayMs` each (default
 * 100: 10 fps; decodeGif reads the rate back). One palette per clip, made from its own pixels
 * (`quantise`): a clip of at most 256 colours keeps every one exactly.
 */
export function encodeGif(frames: Frames, opts: { delayMs?: number; scale?: number } = {}): Uint8Array {
  return writeGif(frames, quantise(frames), opts);
}

/** Indexed frames (one global palette) -> GIF bytes. Internal: `encodeGif` is the public way in. */
export function writeGif(
  frames: Omit<Frames, "rgb">,
  { palette, colours, indices: src }: Indexed,
  opts: { delayMs?: number; scale?: number } = {},
): Uint8Array {
  const scale = opts.scale ?? 1;
  const w = frames.width * scale;
  const h = frames.height * scale;
  // GIF delays are centiseconds: each frame's is rounded so that the clip's length is (1/8 s a frame: 13, 12, 13, 12 …).
  const delayMs = opts.delayMs ?? 100;
  const shownAt = (f: number) => Math.round((f * delayMs) / 10);
  // The smallest table that holds the palette: a flat clip's codes start at 3 bits instead of 9.
  const bits = Math.max(1, Math.ceil(Math.log2(Math.max(2, colours))));
  const table = new Uint8Array(3 << bits);
  table.set(palette.subarray(0, colours * 3));
  const bytes: number[] = [];
  const u16 = (v: number) => bytes.push(v & 0xff, v >> 8);
  bytes.push(...Array.from("GIF89a", (c) => c.charCodeAt(0)));
  u16(w);
  u16(h);
  bytes.push(0xf0 | (bits - 1), 0, 0, ...table);
  bytes.push(0x21, 0xff, 11, ...Array.from("NETSCAPE2.0", (c) => c.charCodeAt(0)), 3, 1, 0, 0, 0);
  const minCodeSize = Math.max(2, bits);
  const indices = new Uint8Array(w * h);
  for (let f = 0; f < frames.count; f++) {
    const base = f * frames.width * frames.height;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) indices[y * w + x] = src[base + Math.floor(y / scale) * frames.width + Math.floor(x / scale)]!;
    const delay = shownAt(f + 1) - shownAt(f);
    bytes.push(0x21, 0xf9, 4, 0x04, delay & 0xff, delay >> 8, 0, 0);
    bytes.push(0x2c);
    u16(0);
    u16(0);
    u16(w);
    u16(h);
    bytes.push(0, minCodeSize);
    const data = lzwEncode(indices, minCodeSize);
    for (let i = 0; i < data.length; i += 255) {
      const block = data.subarray(i, i + 255);
      bytes.push(block.length, ...block);
    }
    bytes.push(0);
  }
  bytes.push(0x3b);
  return Uint8Array.from(bytes);
}
