import { VideoFormatError } from "./errors.ts";
import type { Frames } from "./frames.ts";

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

/**
 * A GIF's frame rate from its frames' delays (centiseconds; null: none said): the mean rate they
 * play at, as browsers play them (a delay of 0 or 1 is shown as 10). A whole rate whose frames
 * rounded to centiseconds give the same total (as encodeGif writes 8 fps: 13, 12, 13 …) is that rate.
 */
function gifFps(delays: (number | null)[]): number | undefined {
  if (delays.every((d) => d === null)) return undefined;
  const total = delays.reduce<number>((sum, d) => sum + (d === null || d <= 1 ? 10 : d), 0);
  const fps = (delays.length * 100) / total;
  const whole = Math.round(fps);
  return whole > 0 && Math.abs((delays.length * 100) / whole - total) <= 0.5 ? whole : fps;
}

/** An animated (or single-frame) GIF -> its composited frames as RGB, and its frame rate when its frames carry delays. */
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
  let delay: number | null = null;
  const delays: (number | null)[] = [];
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
        delay = u16(at + 2);
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
    delays.push(delay);
    if (disposal === 2) for (let y = fy; y < Math.min(height, fy + fh); y++) canvas.fill(0, (y * width + fx) * 3, (y * width + Math.min(width, fx + fw)) * 3);
    if (before) canvas.set(before);
    transparent = -1;
    disposal = 0;
    delay = null;
  }
  if (!out.length) throw new VideoFormatError("GIF has no frames");
  const rgb = new Uint8Array(out.length * width * height * 3);
  for (const [i, frame] of out.entries()) rgb.set(frame, i * frame.length);
  const fps = gifFps(delays);
  return { width, height, count: out.length, rgb, ...(fps !== undefined && { fps }) };
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
