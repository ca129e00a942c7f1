import { VideoFormatError } from "./errors.ts";
import type { Frames } from "./frames.ts";

// A fixed 6×7×6 colour cube (252 colours): previews need no per-clip palette search, and the
// synthetic world's flat colours land on it closely.
const LEVELS = [6, 7, 6] as const;
const PALETTE = (() => {
  const p = new Uint8Array(256 * 3);
  let i = 0;
  for (let r = 0; r < LEVELS[0]; r++)
    for (let g = 0; g < LEVELS[1]; g++)
      for (let b = 0; b < LEVELS[2]; b++, i++) p.set([Math.round((r * 255) / 5), Math.round((g * 255) / 6), Math.round((b * 255) / 5)], i * 3);
  return p;
})();
const quantise = (r: number, g: number, b: number) =>
  (Math.round((r * 5) / 255) * LEVELS[1] + Math.round((g * 6) / 255)) * LEVELS[2] + Math.round((b * 5) / 255);

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

/** Frames -> an animated, looping GIF (fixed 252-colour palette), each frame scaled up `scale`×. */
export function encodeGif(frames: Frames, opts: { delayMs?: number; scale?: number } = {}): Uint8Array {
  const scale = opts.scale ?? 1;
  const w = frames.width * scale;
  const h = frames.height * scale;
  const delay = Math.round((opts.delayMs ?? 100) / 10);
  const bytes: number[] = [];
  const u16 = (v: number) => bytes.push(v & 0xff, v >> 8);
  bytes.push(...Array.from("GIF89a", (c) => c.charCodeAt(0)));
  u16(w);
  u16(h);
  bytes.push(0xf7, 0, 0, ...PALETTE);
  bytes.push(0x21, 0xff, 11, ...Array.from("NETSCAPE2.0", (c) => c.charCodeAt(0)), 3, 1, 0, 0, 0);
  const indices = new Uint8Array(w * h);
  for (let f = 0; f < frames.count; f++) {
    const base = f * frames.width * frames.height * 3;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const s = base + (Math.floor(y / scale) * frames.width + Math.floor(x / scale)) * 3;
        indices[y * w + x] = quantise(frames.rgb[s]!, frames.rgb[s + 1]!, frames.rgb[s + 2]!);
      }
    }
    bytes.push(0x21, 0xf9, 4, 0x04, delay & 0xff, delay >> 8, 0, 0);
    bytes.push(0x2c);
    u16(0);
    u16(0);
    u16(w);
    u16(h);
    bytes.push(0, 8);
    const data = lzwEncode(indices, 8);
    for (let i = 0; i < data.length; i += 255) {
      const block = data.subarray(i, i + 255);
      bytes.push(block.length, ...block);
    }
    bytes.push(0);
  }
  bytes.push(0x3b);
  return Uint8Array.from(bytes);
}

function lzwDecode(data: Uint8Array, minCodeSize: number, pixels: number): Uint8Array {
  if (minCodeSize < 2 || minCodeSize > 8) throw new VideoFormatError(`GIF LZW code size ${minCodeSize} is invalid`);
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const out = new Uint8Array(pixels);
  const prefix = new Int32Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  for (let i = 0; i < clear; i++) [suffix[i], first[i], prefix[i]] = [i, i, -1];
  const stack = new Uint8Array(4097);
  let codeSize = minCodeSize + 1;
  let next = end + 1;
  let old = -1;
  let n = 0;
  let bitBuf = 0;
  let bitLen = 0;
  for (let i = 0; i < data.length && n < pixels; ) {
    while (bitLen < codeSize && i < data.length) {
      bitBuf |= data[i++]! << bitLen;
      bitLen += 8;
    }
    if (bitLen < codeSize) break;
    const code = bitBuf & ((1 << codeSize) - 1);
    bitBuf >>>= codeSize;
    bitLen -= codeSize;
    if (code === clear) {
      codeSize = minCodeSize + 1;
      next = end + 1;
      old = -1;
      continue;
    }
    if (code === end) break;
    let c = code;
    let sp = 0;
    if (code > next || (code === next && old < 0)) throw new VideoFormatError("GIF image data is corrupt (bad LZW code)");
    if (code === next) {
      stack[sp++] = first[old]!;
      c = old;
    }
    while (c >= 0 && sp < 4097) {
      stack[sp++] = suffix[c]!;
      c = prefix[c]!;
    }
    while (sp > 0 && n < pixels) out[n++] = stack[--sp]!;
    if (old >= 0 && next < 4096) {
      prefix[next] = old;
      suffix[next] = first[code === next ? old : code]!;
      first[next] = first[old]!;
      next++;
      if (next === 1 << codeSize && codeSize < 12) codeSize++;
    }
    old = code;
  }
  return out;
}

/** An animated (or single-frame) GIF -> its composited frames as RGB. */
export function decodeGif(bytes: Uint8Array): Frames {
  const sig = String.fromCharCode(...bytes.subarray(0, 6));
  if (sig !== "GIF87a" && sig !== "GIF89a") throw new VideoFormatError("not a GIF file (bad signature)");
  const u16 = (at: number) => bytes[at]! | (bytes[at + 1]! << 8);
  const need = (at: number) => {
    if (at > bytes.length) throw new VideoFormatError("GIF ends early (truncated?)");
  };
  const width = u16(6);
  const height = u16(8);
  if (!width || !height || width * height > 16 * 1024 * 1024) throw new VideoFormatError(`GIF size ${width}×${height} is invalid or too large`);
  const flags = bytes[10]!;
  let at = 13;
  let globalTable: Uint8Array | null = null;
  if (flags & 0x80) {
    const n = 3 * (1 << ((flags & 7) + 1));
    need(at + n);
    globalTable = bytes.subarray(at, at + n);
    at += n;
  }
  const canvas = new Uint8Array(width * height * 3);
  const out: Uint8Array[] = [];
  let transparent = -1;
  let disposal = 0;
  for (;;) {
    need(at + 1);
    const block = bytes[at++];
    if (block === 0x3b) break;
    if (block === 0x21) {
      const label = bytes[at++];
      if (label === 0xf9) {
        const packed = bytes[at + 1]!;
        disposal = (packed >> 2) & 7;
        transparent = packed & 1 ? bytes[at + 4]! : -1;
      }
      while (bytes[at]) {
        need(at + bytes[at]! + 1);
        at += bytes[at]! + 1;
      }
      at++;
      continue;
    }
    if (block !== 0x2c) throw new VideoFormatError(`GIF has an unknown block 0x${block?.toString(16)} at byte ${at - 1}`);
    need(at + 9);
    const [fx, fy, fw, fh] = [u16(at), u16(at + 2), u16(at + 4), u16(at + 6)];
    const f = bytes[at + 8]!;
    at += 9;
    let table = globalTable;
    if (f & 0x80) {
      const n = 3 * (1 << ((f & 7) + 1));
      need(at + n);
      table = bytes.subarray(at, at + n);
      at += n;
    }
    if (!table) throw new VideoFormatError("GIF frame has no colour table");
    const minCode = bytes[at++]!;
    const chunks: Uint8Array[] = [];
    while (bytes[at]) {
      need(at + bytes[at]! + 1);
      chunks.push(bytes.subarray(at + 1, at + 1 + bytes[at]!));
      at += bytes[at]! + 1;
    }
    at++;
    const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of chunks) {
      data.set(c, o);
      o += c.length;
    }
    const indices = lzwDecode(data, minCode, fw * fh);
    const rows = f & 0x40 ? interlacedRows(fh) : Array.from({ length: fh }, (_, y) => y);
    const before = disposal === 3 ? canvas.slice() : null;
    rows.forEach((y, r) => {
      for (let x = 0; x < fw; x++) {
        const idx = indices[r * fw + x]!;
        const cx = fx + x;
        const cy = fy + y;
        if (idx === transparent || cx >= width || cy >= height) continue;
        canvas.set(table!.subarray(idx * 3, idx * 3 + 3), (cy * width + cx) * 3);
      }
    });
    out.push(canvas.slice());
    if (disposal === 2) for (let y = fy; y < Math.min(height, fy + fh); y++) canvas.fill(0, (y * width + fx) * 3, (y * width + Math.min(width, fx + fw)) * 3);
    if (before) canvas.set(before);
    transparent = -1;
    disposal = 0;
  }
  if (!out.length) throw new VideoFormatError("GIF has no frames");
  const rgb = new Uint8Array(out.length * width * height * 3);
  for (const [i, frame] of out.entries()) rgb.set(frame, i * frame.length);
  return { width, height, count: out.length, rgb };
}

function interlacedRows(h: number): number[] {
  const rows: number[] = [];
  for (const [start, step] of [
    [0, 8],
    [4, 8],
    [2, 4],
    [1, 2],
  ] as const)
    for (let y = start; y < h; y += step) rows.push(y);
  return rows;
}
