import { VideoFormatError } from "./errors.ts";

async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** PNG bytes (8-bit grey, RGB, palette, grey+alpha or RGBA; not interlaced) -> RGB pixels; alpha is dropped. */
export async function decodePng(bytes: Uint8Array): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!sig.every((b, i) => bytes[i] === b)) throw new VideoFormatError("not a PNG file (bad signature)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  let colorType = -1;
  let palette: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length; ) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + len > bytes.length) throw new VideoFormatError(`PNG chunk ${type} runs past the end of the file (truncated?)`);
    const data = bytes.subarray(at + 8, at + 8 + len);
    if (type === "IHDR") {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      const depth = data[8];
      colorType = data[9]!;
      if (depth !== 8) throw new VideoFormatError(`PNG bit depth ${depth} is not supported; save it as 8-bit`);
      if (!(colorType in CHANNELS)) throw new VideoFormatError(`PNG colour type ${colorType} is not valid`);
      if (data[12] !== 0) throw new VideoFormatError("interlaced PNGs are not supported; save it without interlacing");
      if (width * height > 64 * 1024 * 1024) throw new VideoFormatError(`PNG of ${width}×${height} is too large`);
    } else if (type === "PLTE") palette = data;
    else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    at += 12 + len;
  }
  if (!width || !idat.length) throw new VideoFormatError("PNG has no image data");
  if (colorType === 3 && !palette) throw new VideoFormatError("palette PNG without a PLTE chunk");
  const joined = new Uint8Array(idat.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of idat) {
    joined.set(c, offset);
    offset += c.length;
  }
  const raw = await inflate(joined);
  const bpp = CHANNELS[colorType]!;
  const stride = width * bpp;
  if (raw.length < height * (stride + 1)) throw new VideoFormatError("PNG image data is shorter than its size says (truncated?)");
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
