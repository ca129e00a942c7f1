import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deflateSync } from "node:zlib";
import { VideoFormatError } from "./errors.ts";
import { decodeClipPng, encodeClipPng, fitClip, framesFromPngs, type Frames } from "./frames.ts";
import { readFrames } from "./read.ts";
import { decodeGif } from "./gif-decode.ts";
import { encodeGif } from "./gif.ts";
import { decodePng } from "./png-decode.ts";
import { encodePng } from "./png.ts";

// At most 252 distinct colours: a GIF's palette holds them all, so they survive encoding exactly.
const onGrid = (i: number) => [Math.round(((i % 6) * 255) / 5), Math.round((((i >> 1) % 7) * 255) / 6), Math.round((((i >> 2) % 6) * 255) / 5)];

function pattern(count: number, w: number, h: number, px: (f: number, x: number, y: number) => number[]): Frames {
  const rgb = new Uint8Array(count * w * h * 3);
  for (let f = 0; f < count; f++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set(px(f, x, y), ((f * h + y) * w + x) * 3);
  return { width: w, height: h, count, rgb };
}

function pngWithFilters(rgb: Uint8Array, w: number, h: number): Uint8Array {
  // Each row uses filter (y % 5): Sub, Up, Average and Paeth must all decode.
  const stride = w * 3;
  const raw = new Uint8Array(h * (stride + 1));
  for (let y = 0; y < h; y++) {
    const f = y % 5;
    raw[y * (stride + 1)] = f;
    for (let x = 0; x < stride; x++) {
      const cur = rgb[y * stride + x]!;
      const a = x >= 3 ? rgb[y * stride + x - 3]! : 0;
      const b = y > 0 ? rgb[(y - 1) * stride + x]! : 0;
      const c = x >= 3 && y > 0 ? rgb[(y - 1) * stride + x - 3]! : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][f]!;
      raw[y * (stride + 1) + 1 + x] = (cur - pred) & 0xff;
    }
  }
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    new DataView(out.buffer).setUint32(0, data.length);
    out.set(
      Array.from(type, (ch) => ch.charCodeAt(0)),
      4,
    );
    out.set(data, 8);
    return out; // CRC left zero: the decoder, like browsers, does not need it to read pixels
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, w);
  new DataView(ihdr.buffer).setUint32(4, h);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", new Uint8Array()),
  ];
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

describe("video formats", () => {
  it("GIF: a clip of at most 256 colours round-trips exactly, across LZW table resets", () => {
    // 128×128 of varied colours fills the 4096-code table several times per frame.
    const frames = pattern(3, 128, 128, (f, x, y) => onGrid(x * 7 + y * 13 + f * 5));
    const back = decodeGif(encodeGif(frames));
    assert.equal(back.count, 3);
    assert.deepEqual([back.width, back.height], [128, 128]);
    assert.deepEqual(back.rgb, frames.rgb);
  });

  it("GIF: scales previews and refuses garbage with a clear error", () => {
    const frames = pattern(2, 4, 4, (f) => onGrid(f));
    const big = decodeGif(encodeGif(frames, { scale: 3 }));
    assert.deepEqual([big.width, big.height, big.count], [12, 12, 2]);
    assert.throws(() => decodeGif(Uint8Array.from([1, 2, 3, 4, 5, 6])), VideoFormatError);
    const truncated = encodeGif(frames).subarray(0, 40);
    assert.throws(() => decodeGif(truncated), /truncated|ends early|corrupt|no frames/);
  });

  it("PNG: decodes every filter type", async () => {
    const rgb = Uint8Array.from({ length: 7 * 6 * 3 }, (_, i) => (i * 53 + (i >> 3) * 11) & 0xff);
    const png = await decodePng(pngWithFilters(rgb, 7, 6));
    assert.deepEqual(png.rgb, rgb);
    const ours = await decodePng(await encodePng(rgb, 7, 6));
    assert.deepEqual(ours.rgb, rgb);
  });

  it("clip PNG: square frames side by side, lossless", async () => {
    const frames = pattern(16, 8, 8, (f, x, y) => [f * 10, x * 30, y * 30]);
    const png = await encodeClipPng(frames);
    const back = await decodeClipPng(png);
    assert.deepEqual(back, frames);
    assert.deepEqual(await readFrames(png), frames);
  });

  it("a list of PNG frames is a clip; frames of different sizes are refused by index", async () => {
    const a = await encodePng(new Uint8Array(4 * 4 * 3).fill(10), 4, 4);
    const b = await encodePng(new Uint8Array(4 * 4 * 3).fill(200), 4, 4);
    const frames = await framesFromPngs([a, b, a]);
    assert.equal(frames.count, 3);
    assert.equal(frames.rgb[4 * 4 * 3], 200);
    const c = await encodePng(new Uint8Array(5 * 4 * 3), 5, 4);
    await assert.rejects(framesFromPngs([a, c]), /frame 1 is 5×4, frame 0 is 4×4/);
  });

  it("fits any clip to the model's shape: centre crop, box filter, even resampling in time", () => {
    // 31 frames of 96×64: the frame index is in red, a column marker in green.
    const src = pattern(31, 96, 64, (f, x) => [f, x >= 16 && x < 19 ? 255 : 0, 0]);
    const clip = fitClip(src, { frames: 16, size: 32 });
    assert.deepEqual([clip.count, clip.width, clip.height], [16, 32, 32]);
    const red = (f: number) => clip.rgb[f * 32 * 32 * 3]!;
    assert.deepEqual([red(0), red(1), red(15)], [0, 2, 30], "first and last frames kept, evenly spaced");
    // The crop starts at x = 16, so the marker lands in output column 0 (cells are 2 px wide).
    assert.equal(clip.rgb[1], 255);
    assert.equal(clip.rgb[3 + 1], 128, "box filter averages the cell");
  });

  it("refuses what cannot become a clip, saying why", async () => {
    assert.throws(() => fitClip(pattern(1, 32, 32, () => [0, 0, 0])), /at least 2 frames/);
    assert.throws(() => fitClip(pattern(4, 6, 6, () => [0, 0, 0])), /too small/);
    await assert.rejects(readFrames(Uint8Array.from([0, 1, 2, 3])), /unrecognised video format/);
    const single = await encodePng(new Uint8Array(8 * 8 * 3), 8, 8);
    await assert.rejects(readFrames(single), /one frame/);
  });
});
