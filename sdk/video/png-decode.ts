import { VideoFormatError } from "./errors.ts";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** The most pixels any PNG may declare here (a 256 MB RGBA image). */
const MAX_PIXELS = 64 * 1024 * 1024;

/** What a PNG's IHDR declares, checked: 8-bit, a valid colour type, not interlaced, at most 64 Mpx. */
export interface PngHeader {
  width: number;
  height: number;
  colorType: number;
  /** Bytes the image data must inflate to: a filter byte plus a row of pixels, per row. */
  inflatedSize: number;
}

/**
 * Reads the header from the first 33 bytes (signature + IHDR, which must come first) without
 * touching the image data, so a caller can refuse a size before anything is inflated.
 */
export function readPngHeader(bytes: Uint8Array): PngHeader {
  if (!SIGNATURE.every((b, i) => bytes[i] === b)) throw new VideoFormatError("not a PNG file (bad signature)");
  if (bytes.length < 33) throw new VideoFormatError("PNG ends before its IHDR header (truncated?)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8) !== 13 || String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR")
    throw new VideoFormatError("PNG does not start with an IHDR header");
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const [depth, colorType, , , interlace] = bytes.subarray(24, 29);
  if (depth !== 8) throw new VideoFormatError(`PNG bit depth ${depth} is not supported; save it as 8-bit`);
  if (!(colorType! in CHANNELS)) throw new VideoFormatError(`PNG colour type ${colorType} is not valid`);
  if (interlace !== 0) throw new VideoFormatError("interlaced PNGs are not supported; save it without interlacing");
  if (!width || !height) throw new VideoFormatError(`PNG of ${width}×${height} has no pixels`);
  if (width * height > MAX_PIXELS) throw new VideoFormatError(`PNG of ${width}×${height} is too large (at most ${MAX_PIXELS} pixels)`);
  return { width, height, colorType: colorType!, inflatedSize: height * (1 + width * CHANNELS[colorType!]!) };
}

/**
 * Inflates into exactly `size` bytes and stops reading the moment the stream would pass them: a
 * decompression bomb (1 KB that inflates to 1 MB, over and over) costs `size` bytes and the time
 * to inflate them, never what it would expand to. DecompressionStream hands out 16 KiB at a time
 * and inflates no further until asked.
 */
async function inflateExactly(data: Uint8Array, size: number, what: string): Promise<Uint8Array> {
  const reader = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("deflate")).getReader();
  const out = new Uint8Array(size);
  let at = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (at + value.length > size)
        throw new VideoFormatError(`PNG image data inflates past the ${size} bytes its ${what} header implies (a decompression bomb?); it was not decoded`);
      out.set(value, at);
      at += value.length;
    }
  } catch (e) {
    if (e instanceof VideoFormatError) throw e;
    throw new VideoFormatError(`PNG image data is not a valid zlib stream (${(e as Error).message})`);
  } finally {
    reader.cancel().catch(() => {});
  }
  if (at < size) throw new VideoFormatError("PNG image data is shorter than its size says (truncated?)");
  return out;
}

/**
 * PNG bytes (8-bit grey, RGB, palette, grey+alpha or RGBA; not interlaced) -> RGB pixels; alpha is
 * dropped. Memory is bounded by the header's size (check it first with readPngHeader to bound it further).
 */
export async function decodePng(bytes: Uint8Array): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const { width, height, colorType, inflatedSize } = readPngHeader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let palette: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length; ) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + len > bytes.length) throw new VideoFormatError(`PNG chunk ${type} runs past the end of the file (truncated?)`);
    const data = bytes.subarray(at + 8, at + 8 + len);
    if (type === "PLTE") palette = data;
    else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    at += 12 + len;
  }
  if (!idat.length) throw new VideoFormatError("PNG has no image data");
  if (colorType === 3 && !palette) throw new VideoFormatError("palette PNG without a PLTE chunk");
  const joined = new Uint8Array(idat.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of idat) {
    joined.set(c, offset);
    offset += c.length;
  }
  const raw = await inflateExactly(joined, inflatedSize, `${width}×${height}`);
  const bpp = CHANNELS[colorType]!;
  const stride = width * bpp;
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = px.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? px.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[x - bpp]! : 0;
      const b = prev[x]!;
      const c = x >= bpp ? prev[x - bpp]! : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new VideoFormatError(`PNG row ${y} has unknown filter ${filter}`);
      out[x] = (line[x]! + pred) & 0xff;
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    if (colorType === 3) rgb.set(palette!.subarray(px[i]! * 3, px[i]! * 3 + 3), i * 3);
    else if (colorType <= 4 && colorType !== 2) rgb.fill(px[i * bpp]!, i * 3, i * 3 + 3);
    else rgb.set(px.subarray(i * bpp, i * bpp + 3), i * 3);
  }
  return { rgb, width, height };
}
