// GIF colours: encode -> decode keeps what a user sees. The model's outputs (fixtures/, made by the
// base model on CPU, `generate(engine, { prompt, seed })` of gpu-runner/fym/sampler.ts, seeds 1 and 2)
// have thousands of colours; the world's flat colours (gpu-runner/core/palette.ts) must come back exact.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { RGB } from "../../gpu-runner/core/palette.ts";
import { decodeClipPng, type Frames } from "./frames.ts";
import { encodeGif, writeGif } from "./gif.ts";
import { decodeGif } from "./gif-decode.ts";
import { readVideoFile, writeVideoFile } from "../node.ts";
import { describeFit, fitReport } from "./fit.ts";

/** The world's 14 colours as the runner writes them (clipToRgb). */
const WORLD = Object.entries(RGB).map(([name, c]) => ({ name, rgb: c.map((v) => Math.round(v * 255)) }));

const fixture = async (name: string) => decodeClipPng(new Uint8Array(await readFile(new URL(`fixtures/${name}.png`, import.meta.url))));

/**
 * The colour error a GIF adds to `src`, checked against bounds measured on the model's outputs
 * (12 clips: mean error per channel ≤ 1.04, no pixel off by more than 17 in a channel; the old fixed palette:
 * mean 5.7–16.7, pixels 23–25 off in every clip).
 */
function assertColoursKept(src: Frames, gif: Uint8Array, bounds = { mean: 1.5, max: 24 }) {
  const back = decodeGif(gif);
  assert.deepEqual([back.width, back.height, back.count], [src.width, src.height, src.count]);
  let sum = 0;
  let grays = 0;
  let grayChroma = 0;
  let worst = { err: 0, at: 0 };
  for (let p = 0; p < src.rgb.length; p += 3) {
    const s = src.rgb.subarray(p, p + 3);
    const o = back.rgb.subarray(p, p + 3);
    const errs = [0, 1, 2].map((c) => Math.abs(s[c]! - o[c]!));
    sum += errs[0]! + errs[1]! + errs[2]!;
    if (Math.max(...errs) > worst.err) worst = { err: Math.max(...errs), at: p };
    if (Math.max(...s) - Math.min(...s) <= 4) {
      grays++;
      grayChroma += Math.max(...o) - Math.min(...o);
    }
  }
  const mean = sum / src.rgb.length;
  assert.ok(mean <= bounds.mean, `mean error ${mean.toFixed(2)} per channel > ${bounds.mean}`);
  // A gray stays gray: on average its channels stay within a few levels of each other (mauve is 25 apart).
  if (grays) assert.ok(grayChroma / grays <= 4, `grays came back tinted: mean spread between channels ${(grayChroma / grays).toFixed(1)}`);
  const at = worst.at;
  assert.ok(worst.err <= bounds.max, `pixel ${at / 3}: (${src.rgb.subarray(at, at + 3)}) came back as (${back.rgb.subarray(at, at + 3)}), ${worst.err} off`);
}

/** A clip of each world colour as a flat block moving across frames, beside a gradient of 2,048 other colours. */
function worldAndGradient(): Frames {
  const [w, h, count] = [32, 32, 16];
  const rgb = new Uint8Array(count * w * h * 3);
  for (let f = 0; f < count; f++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const c = x < 16 ? WORLD[(Math.floor((x + f) / 4) + Math.floor(y / 8) * 4) % WORLD.length]!.rgb : [x * 8, y * 8, f * 16];
        rgb.set(c, ((f * h + y) * w + x) * 3);
      }
  return { width: w, height: h, count, rgb };
}

/** The encoder before issue 28: every clip on one fixed 6×7×6 cube, which has no gray between black and white. */
function oldFixedPaletteGif(frames: Frames): Uint8Array {
  const palette = new Uint8Array(252 * 3);
  for (let i = 0; i < 252; i++)
    palette.set([Math.round((Math.floor(i / 42) * 255) / 5), Math.round(((Math.floor(i / 6) % 7) * 255) / 6), Math.round(((i % 6) * 255) / 5)], i * 3);
  const indices = new Uint8Array(frames.rgb.length / 3);
  for (let p = 0; p < indices.length; p++) {
    const [r, g, b] = frames.rgb.subarray(p * 3, p * 3 + 3);
    indices[p] = (Math.round((r! * 5) / 255) * 7 + Math.round((g! * 6) / 255)) * 6 + Math.round((b! * 5) / 255);
  }
  return writeGif(frames, { palette, colours: 252, indices });
}

describe("GIF colours", () => {
  it("a clip of at most 256 colours comes back exactly: the world's gray stays (89,89,89), not mauve", () => {
    const frames = worldAndGradient();
    const flat = { ...frames, rgb: frames.rgb.map((v, i) => (Math.floor(i / 3) % 32 < 16 ? v : 0)) };
    assert.deepEqual(decodeGif(encodeGif(flat)).rgb, flat.rgb);
    const scaled = decodeGif(encodeGif(flat, { scale: 4 }));
    assert.deepEqual([...scaled.rgb.subarray(0, 3)], [...flat.rgb.subarray(0, 3)]);
  });

  it("a clip of more colours than a GIF holds: the world's colours exact, the rest close, grays gray", () => {
    const frames = worldAndGradient();
    const gif = encodeGif(frames);
    // Half the clip is 8,192 evenly spread colours, the worst case for 256 entries (measured: mean 4.1, max 24).
    assertColoursKept(frames, gif, { mean: 6, max: 32 });
    const back = decodeGif(gif);
    for (const { name, rgb } of WORLD) {
      const at = frames.rgb.findIndex((_, p) => p % 3 === 0 && frames.rgb[p] === rgb[0] && frames.rgb[p + 1] === rgb[1] && frames.rgb[p + 2] === rgb[2]);
      assert.deepEqual([...back.rgb.subarray(at, at + 3)], rgb, `${name} (${rgb}) is kept exactly`);
    }
  });

  for (const name of ["model-red-circle-gray", "model-white-square-navy"]) {
    it(`the model's output (${name}) keeps its colours: one palette made from the clip, shared by its frames`, async () => {
      const clip = await fixture(name);
      assertColoursKept(clip, encodeGif(clip, { scale: 1 }));
      const scaled = decodeGif(encodeGif(clip, { scale: 3 }));
      assert.deepEqual([scaled.width, scaled.count], [96, 16]);
    });
  }

  it("the old fixed 6×7×6 palette fails the same checks: gray turns mauve, the model's output shifts", async () => {
    const gray = WORLD.find((c) => c.name === "gray")!.rgb;
    const flat: Frames = { width: 2, height: 2, count: 2, rgb: new Uint8Array(2 * 2 * 2 * 3).map((_, i) => gray[i % 3]!) };
    assert.deepEqual([...decodeGif(oldFixedPaletteGif(flat)).rgb.subarray(0, 3)], [102, 85, 102]);
    assert.throws(() => assertColoursKept(flat, oldFixedPaletteGif(flat)), /mean error 10\.00/);
    for (const name of ["model-red-circle-gray", "model-white-square-navy"]) {
      const clip = await fixture(name);
      assert.throws(
        () => assertColoursKept(clip, oldFixedPaletteGif(clip)),
        (e: Error) => {
          console.log(`# old palette, ${name}: ${e.message}`);
          return /off|mean error|tinted/.test(e.message);
        },
      );
    }
  });
});

describe("GIF frame rate", () => {
  const still = (count: number): Frames => ({ width: 4, height: 4, count, rgb: new Uint8Array(count * 4 * 4 * 3).map((_, i) => (i * 7) % 256) });

  it("keeps the rate in the frames' delays: written, then read back the same (centiseconds rounded so the clip's length is kept)", () => {
    assert.equal(decodeGif(encodeGif(still(16))).fps, 10, "the default delay, 100 ms");
    for (const fps of [8, 7, 12, 24, 30]) assert.equal(decodeGif(encodeGif(still(16), { delayMs: 1000 / fps })).fps, fps, `${fps} fps`);
    assert.equal(decodeGif(encodeGif(still(3), { delayMs: 125 })).fps, 8, "three frames of 1/8 s: 13, 12, 13 centiseconds");
  });

  it("a GIF writeVideoFile made is read by readVideoFile at its own rate, and the fit report says it (not 'fps unknown')", async () => {
    const dir = await mkdtemp(join(tmpdir(), "motion-lora-gif-fps-"));
    try {
      const path = join(dir, "clip.gif");
      await writeVideoFile(path, still(16));
      const back = await readVideoFile(path);
      assert.equal(back.fps, 8, "writeVideoFile's default rate");
      assert.match(describeFit(fitReport(back, { frames: 16, size: 32 })), /^source 16×16, 8 fps, 2 s → /);
      await writeVideoFile(path, still(16), { fps: 12 });
      assert.equal((await readVideoFile(path)).fps, 12);
      await writeVideoFile(join(dir, "again.gif"), await readVideoFile(path));
      assert.equal((await readVideoFile(join(dir, "again.gif"))).fps, 12, "frames read at a rate are written at it");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
