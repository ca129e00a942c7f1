import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeFit, fitClipReported, fitReport } from "./fit.ts";
import { fitClip, type Frames } from "./frames.ts";

const MODEL = { frames: 16, size: 32 };
const GRAY = [128, 128, 128];
const RED = [255, 0, 0];

function clip(count: number, w: number, h: number, px: (f: number, x: number, y: number) => number[], extra: Partial<Frames> = {}): Frames {
  const rgb = new Uint8Array(count * w * h * 3);
  for (let f = 0; f < count; f++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set(px(f, x, y), ((f * h + y) * w + x) * 3);
  return { width: w, height: h, count, rgb, ...extra };
}
const pixel = (fr: Frames, f: number, x: number, y: number) => [
  ...fr.rgb.subarray(((f * fr.height + y) * fr.width + x) * 3, ((f * fr.height + y) * fr.width + x) * 3 + 3),
];
const isRed = (p: number[]) => p[0]! > 200 && p[1]! < 60;
/** Frame number i painted as its red channel: which source frame each model frame came from. */
const numbered = (count: number, extra: Partial<Frames> = {}) => clip(count, 8, 8, (f) => [f % 256, Math.floor(f / 256), 0], extra);
const sourceFrame = (fr: Frames, f: number) => pixel(fr, f, 0, 0)[0]! + 256 * pixel(fr, f, 0, 0)[1]!;

describe("fitting a clip to the model, said beforehand", () => {
  it("reports a wide 854×480, 30 fps, 3 s clip: the centre 480×480 (56% of the picture), 32×32, 16 frames spread over 3 s, with a warning", () => {
    // What readVideoFile hands over for such an MP4: frames shrunk to 256×144 that name their source.
    const frames = clip(90, 256, 144, () => GRAY, { fps: 30, source: { width: 854, height: 480, fps: 30, seconds: 3, start: 0 } });
    const r = fitReport(frames, MODEL);
    assert.deepEqual(r.source, { width: 854, height: 480, fps: 30, seconds: 3, frames: 90 });
    assert.deepEqual(r.square, { x: 187, y: 0, side: 480 });
    assert.equal(r.pictureKept, 0.562);
    assert.deepEqual(r.span, { start: 0, end: 3 });
    assert.equal(r.framesInSpan, 90);
    assert.deepEqual(r.framesKept, [0, 6, 12, 18, 24, 30, 36, 42, 47, 53, 59, 65, 71, 77, 83, 89]);
    assert.equal(r.warnings.length, 1);
    assert.equal(
      describeFit(r),
      [
        "source 854×480, 30 fps, 3 s → crop to the centre 480×480 (56% of the picture), scaled to 32×32",
        "frames: 16 of the 90 between 0 s and 3 s (source frames 0…89)",
        `warning: crop keeps the centre 480×480 of 854×480 (56% of the picture): motion outside it is lost; fit "pad" keeps the whole picture`,
      ].join("\n"),
    );
    const padded = fitReport(frames, MODEL, { fit: "pad" });
    assert.deepEqual([padded.square, padded.pictureKept, padded.warnings], [{ x: 0, y: -187, side: 854 }, 1, []]);
  });

  it("pads to keep what crop throws away: a square at the left edge is seen with pad, lost with crop; bands of the border colour", () => {
    // 64×32, gray, a red 8×8 square moving from the left edge to the right edge.
    const frames = clip(16, 64, 32, (f, x, y) => (x >= f * 3.5 && x < f * 3.5 + 8 && y >= 12 && y < 20 ? RED : GRAY));
    const crop = fitClip(frames, MODEL, { fit: "crop" });
    const pad = fitClip(frames, MODEL, { fit: "pad" });
    const reds = (fr: Frames, f: number) => {
      let n = 0;
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) n += isRed(pixel(fr, f, x, y)) ? 1 : 0;
      return n;
    };
    assert.equal(reds(crop, 0), 0, "crop: the square is outside the centre square at the start");
    assert.equal(reds(crop, 15), 0, "and at the end");
    assert.ok(reds(pad, 0) >= 12 && reds(pad, 15) >= 12, `pad: seen in the first and last frames (${reds(pad, 0)}, ${reds(pad, 15)} px)`);
    for (const f of [0, 7, 15]) {
      assert.ok(reds(pad, f) > 0, `pad keeps the square in frame ${f}`);
      assert.deepEqual(pixel(pad, f, 16, 0), GRAY, "the band above is the border's colour");
      assert.deepEqual(pixel(pad, f, 16, 31), GRAY, "and the band below");
    }
    assert.equal(pad.width, 32);
  });

  it("takes the frames from the chosen span: start 2 s, duration 3 s of a 10 s clip at 10 fps", () => {
    const frames = numbered(100, { fps: 10 });
    const { frames: out, report } = fitClipReported(frames, MODEL, { start: 2, duration: 3 });
    assert.deepEqual(report.span, { start: 2, end: 5 });
    assert.equal(report.framesInSpan, 30);
    const got = Array.from({ length: 16 }, (_, f) => sourceFrame(out, f));
    assert.deepEqual(got, report.framesKept, "the report names the frames the model gets");
    assert.deepEqual([got[0], got[15]], [20, 49]);
    assert.ok(
      got.every((g, i) => i === 0 || g > got[i - 1]!),
      "in order, none repeated",
    );
    assert.throws(() => fitReport(frames, MODEL, { start: 10 }), /start 10 s is outside the clip, which runs from 0 s to 10 s/);
    const short = fitReport(frames, MODEL, { start: 9 });
    assert.match(short.warnings.join(), /holds 10 frames for the model's 16: 6 are repeats, so the motion is slowed down/);
  });

  it("spreads a long clip's frames over all of it, with no hidden cut at 512 frames, and warns how far apart they are", () => {
    // 20 s at 30 fps: the old MP4 path decoded only the first 512 frames (17.1 s).
    const frames = numbered(600, { fps: 30 });
    const { frames: out, report } = fitClipReported(frames, MODEL);
    assert.deepEqual([sourceFrame(out, 0), sourceFrame(out, 15)], [0, 599]);
    assert.deepEqual(report.span, { start: 0, end: 20 });
    assert.match(report.warnings.join(), /16 frames are spread over 20 s, one every 1\.33 s: motion faster than that is lost; choose a shorter duration/);
    // The same clip as readVideoFile decodes it: at most 128 frames of the span, the source's numbering kept.
    const decoded = numbered(128, { fps: 6.4, source: { width: 8, height: 8, fps: 30, seconds: 20, start: 0 } });
    const r = fitReport(decoded, MODEL);
    assert.equal(r.framesKept[0], 0);
    assert.ok(r.framesKept.at(-1)! >= 590, `the last frame kept is near the end: ${r.framesKept.at(-1)}`);
    assert.deepEqual(fitReport(decoded, MODEL, { start: 0 }).span, { start: 0, end: 20 });
  });

  it("says a square clip is used as it is: nothing to crop or pad, and at the model's size nothing to scale", () => {
    const own = clip(16, 32, 32, () => GRAY);
    assert.equal(
      describeFit(fitReport(own, MODEL)),
      [
        "source 32×32, fps unknown (taken as 8), 2 s → used as it is (already the model's 32×32: nothing to crop, pad or scale)",
        "frames: 16 of the 16 between 0 s and 2 s (source frames 0…15)",
      ].join("\n"),
    );
    assert.equal(describeFit(fitReport(own, MODEL, { fit: "pad" })).split("\n")[0], describeFit(fitReport(own, MODEL)).split("\n")[0], "pad too");
    assert.match(
      describeFit(
        fitReport(
          clip(16, 128, 128, () => GRAY, { fps: 10 }),
          MODEL,
        ),
      ),
      /^source 128×128, 10 fps, 1\.6 s → the whole picture \(square: nothing cropped or padded\), scaled to 32×32\n/,
    );
    assert.doesNotMatch(describeFit(fitReport(own, MODEL)), /crop to|100% of the picture/);
  });

  it("keeps the old behaviour for a clip with no frame rate: all of it, first and last frames kept, centre crop", () => {
    const out = fitClip(numbered(31));
    assert.deepEqual([sourceFrame(out, 0), sourceFrame(out, 1), sourceFrame(out, 15)], [0, 2, 30]);
  });
});
