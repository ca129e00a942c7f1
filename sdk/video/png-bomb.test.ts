import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clipBomb, pngWith, zeroBomb } from "../../test/helpers/png-bomb.ts";
import { VideoFormatError } from "./errors.ts";
import { decodeClipPng, MODEL_CLIP } from "./frames.ts";
import { decodePng } from "./png-decode.ts";

const MiB = 1 << 20;

/** Runs `f` while sampling the process's array-buffer bytes every 5 ms; returns the peak growth. */
async function peakGrowth(f: () => Promise<unknown>): Promise<{ bytes: number; ms: number; error: unknown }> {
  const base = process.memoryUsage().arrayBuffers;
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - base)), 5);
  const t0 = performance.now();
  let error: unknown = null;
  try {
    await f();
  } catch (e) {
    error = e;
  }
  clearInterval(sample);
  peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
  return { bytes: peak, ms: performance.now() - t0, error };
}

describe("PNG decompression bombs", () => {
  it("stops inflating a clip-sized PNG whose 1 MiB of image data inflates to 1 GiB, at the 49 KiB its header implies", async () => {
    const bomb = clipBomb(1024 * MiB);
    assert.ok(bomb.length < 1.1 * MiB, `${bomb.length} bytes`);
    const { bytes, ms, error } = await peakGrowth(() => decodeClipPng(bomb, MODEL_CLIP));
    assert.ok(error instanceof VideoFormatError, String(error));
    assert.equal(error.code, "invalid_video");
    assert.match(error.message, /inflates past the 49184 bytes its 512×32 header implies/);
    // Unbounded, this inflated 1 GiB (the attack's 1.4 MB file took 5 GB and 200 s in the runner).
    assert.ok(ms < 1_000, `took ${ms.toFixed(0)} ms`);
    assert.ok(bytes < 16 * MiB, `array buffers grew by ${(bytes / MiB).toFixed(1)} MiB`);
  });

  it("refuses a PNG declaring more than the clip's size before inflating a byte, whatever its data", async () => {
    // 8192×8192 RGB is 192 MiB of pixels; the image data is 64 MiB of zeros, not enough for even that.
    const huge = pngWith(8192, 8192, zeroBomb(64 * MiB));
    const { bytes, ms, error } = await peakGrowth(() => decodeClipPng(huge, MODEL_CLIP));
    assert.ok(error instanceof VideoFormatError, String(error));
    assert.match(error.message, /16 frames of 32×32 \(a 512×32 clip PNG\); this PNG is 8192×8192/);
    assert.ok(ms < 200, `took ${ms.toFixed(0)} ms`);
    assert.ok(bytes < 4 * MiB, `array buffers grew by ${(bytes / MiB).toFixed(1)} MiB`);
  });

  it("bounds a PNG of any size by its header: a 4×4 image whose data inflates to 256 MiB is refused at 52 bytes", async () => {
    const { bytes, error } = await peakGrowth(() => decodePng(pngWith(4, 4, zeroBomb(256 * MiB))));
    assert.ok(error instanceof VideoFormatError, String(error));
    assert.match(error.message, /inflates past the 52 bytes its 4×4 header implies/);
    assert.ok(bytes < 16 * MiB, `array buffers grew by ${(bytes / MiB).toFixed(1)} MiB`);
  });

  it("refuses a header that declares more than 64 Mpx, and image data that is not zlib, as invalid_video", async () => {
    await assert.rejects(decodePng(pngWith(65_535, 65_535, zeroBomb(MiB))), /65535×65535 is too large/);
    const bad = await decodePng(pngWith(4, 4, Uint8Array.of(1, 2, 3, 4))).catch((e: unknown) => e);
    assert.ok(bad instanceof VideoFormatError && /not a valid zlib stream/.test(bad.message), String(bad));
  });
});
