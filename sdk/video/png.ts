/** PNG encoding with web-standard APIs only (CompressionStream), so it runs in Node, browsers and Workers. */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

async function deflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** One PNG chunk: length, type, data and the CRC of type + data. */
function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** RGB pixels (height × width × 3, row-major) -> PNG bytes. */
export async function encodePng(rgb: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  if (rgb.length !== width * height * 3) throw new RangeError(`expected ${width}×${height}×3 bytes, got ${rgb.length}`);
  const raw = new Uint8Array(height * (1 + width * 3));
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (1 + width * 3) + 1);
  return rgbPng(width, height, await deflate(raw));
}

/** An 8-bit RGB PNG file of `width`×`height` around `idat`, a zlib stream of its filtered rows (not checked against the size). */
export function rgbPng(width: number, height: number, idat: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return concatBytes([
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", idat),
    pngChunk("IEND", new Uint8Array()),
  ]);
}

/** The parts one after another, in one array. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Frames (frames × size × size × 3) side by side, each scaled up `scale`×: a PNG strip preview's pixels. */
export function frameStrip(frames: Uint8Array, count: number, size: number, scale = 1, every = 1): { rgb: Uint8Array; width: number; height: number } {
  const shown = Array.from({ length: Math.ceil(count / every) }, (_, i) => i * every);
  const width = shown.length * size * scale;
  const height = size * scale;
  const rgb = new Uint8Array(width * height * 3);
  shown.forEach((f, i) => {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < size * scale; x++) {
        const src = ((f * size + Math.floor(y / scale)) * size + Math.floor(x / scale)) * 3;
        const dst = (y * width + i * size * scale + x) * 3;
        rgb.set(frames.subarray(src, src + 3), dst);
      }
    }
  });
  return { rgb, width, height };
}
