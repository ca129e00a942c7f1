import { VideoFormatError } from "./errors.ts";
import { decodePng, readPngHeader } from "./png-decode.ts";
import { encodePng } from "./png.ts";
import type { ClipShape, Frames } from "./clip-types.ts";
import { fitClipReported, type FitOptions } from "./fit.ts";

export type { ClipShape, Frames } from "./clip-types.ts";

/** The shape of the bundled model (gpu-runner/artifacts/manifest.json). */
export const MODEL_CLIP: ClipShape = { frames: 16, size: 32 };

/** Raw RGB bytes -> Frames, checking that the length is a whole number of frames. */
export function framesFromRgb(rgb: Uint8Array, width: number, height: number): Frames {
  const per = width * height * 3;
  if (!per || rgb.length % per !== 0)
    throw new VideoFormatError(`${rgb.length} bytes is not a whole number of ${width}×${height} RGB frames (${per} bytes each)`);
  return { width, height, count: rgb.length / per, rgb };
}

/**
 * Fits a clip to the model's shape: the centre square (fit "crop", the default) or the whole picture
 * with bands (fit "pad"), the model's frames spread evenly over the chosen span (start, duration in
 * seconds; default the whole clip). fitReport says beforehand what is kept and what is lost.
 */
export function fitClip(src: Frames, shape: ClipShape = MODEL_CLIP, opts: FitOptions = {}): Frames {
  return fitClipReported(src, shape, opts).frames;
}

/** Square frames side by side in one lossless PNG: the wire format of clips (blobs of kind 'video'). */
export async function encodeClipPng(frames: Frames): Promise<Uint8Array> {
  if (frames.width !== frames.height) throw new VideoFormatError(`clip frames must be square, got ${frames.width}×${frames.height}`);
  const { width: s, count } = frames;
  const rgb = new Uint8Array(frames.rgb.length);
  for (let f = 0; f < count; f++)
    for (let y = 0; y < s; y++) rgb.set(frames.rgb.subarray((f * s + y) * s * 3, (f * s + y + 1) * s * 3), (y * count * s + f * s) * 3);
  return encodePng(rgb, count * s, s);
}

/** The width × height of a clip PNG of `shape`: its frames side by side. */
export const clipPngSize = (shape: ClipShape) => ({ width: shape.frames * shape.size, height: shape.size });

/**
 * A clip PNG (square frames side by side) -> Frames. With `shape`, a PNG of any other size is
 * refused before its image data is inflated, so a hostile file costs at most one clip's bytes.
 */
export async function decodeClipPng(bytes: Uint8Array, shape?: ClipShape): Promise<Frames> {
  if (shape) {
    const { width, height } = readPngHeader(bytes);
    const want = clipPngSize(shape);
    if (width !== want.width || height !== want.height)
      throw new VideoFormatError(
        `the model works on ${shape.frames} frames of ${shape.size}×${shape.size} (a ${want.width}×${want.height} clip PNG); this PNG is ${width}×${height}. Fit it with the SDK's fitClip`,
      );
  }
  return framesFromStrip(await decodePng(bytes));
}

/** A strip of square frames side by side (a clip PNG's image) -> Frames. */
export function framesFromStrip({ rgb, width, height }: { rgb: Uint8Array; width: number; height: number }): Frames {
  if (width % height !== 0)
    throw new VideoFormatError(`a clip PNG holds square frames side by side, so its width is a multiple of its height; got ${width}×${height}`);
  const count = width / height;
  const s = height;
  const out = new Uint8Array(rgb.length);
  for (let f = 0; f < count; f++)
    for (let y = 0; y < s; y++) out.set(rgb.subarray((y * width + f * s) * 3, (y * width + (f + 1) * s) * 3), (f * s + y) * s * 3);
  return { width: s, height: s, count, rgb: out };
}

/** Separate PNG images, one per frame, of one size -> Frames. */
export async function framesFromPngs(images: Uint8Array[]): Promise<Frames> {
  const decoded = await Promise.all(images.map((b) => decodePng(b)));
  const first = decoded[0];
  if (!first) throw new VideoFormatError("no PNG frames given");
  decoded.forEach((d, i) => {
    if (d.width !== first.width || d.height !== first.height)
      throw new VideoFormatError(`frame ${i} is ${d.width}×${d.height}, frame 0 is ${first.width}×${first.height}; all frames must be one size`);
  });
  const rgb = new Uint8Array(decoded.length * first.rgb.length);
  for (const [i, d] of decoded.entries()) rgb.set(d.rgb, i * first.rgb.length);
  return { width: first.width, height: first.height, count: decoded.length, rgb };
}
