import { VideoFormatError } from "./errors.ts";
import type { ClipShape, FrameSource, Frames } from "./clip-types.ts";

/** crop: the centre square of the picture, full detail; pad: the whole picture, with bands of its border colour. */
export type FitMode = "crop" | "pad";

/** How a clip becomes the model's: which part of the picture, which stretch of time (seconds of the source). */
export interface FitOptions {
  fit?: FitMode;
  /** Seconds into the source where the span starts (default 0). */
  start?: number;
  /** Seconds of the source to spread the model's frames over (default: to the end). */
  duration?: number;
}

export type { FrameSource } from "./clip-types.ts";

/** What the model will see of a clip, and what was left out: said before any upload. */
export interface FitReport {
  source: { width: number; height: number; fps: number | null; seconds: number; frames: number };
  fit: FitMode;
  /** crop: the square of the source kept, in source pixels; pad: the square the whole picture is placed in. */
  square: { x: number; y: number; side: number };
  /** Share of the source picture the model sees (crop < 1; pad 1). */
  pictureKept: number;
  /** The stretch of the source the frames are spread over, in seconds. */
  span: { start: number; end: number };
  /** Source frames (counted from the source's start) the model's frames are taken from, in order. */
  framesKept: number[];
  /** Frames of the source inside the span. */
  framesInSpan: number;
  output: ClipShape;
  /** Sentences for what is thrown away or distorted enough to change the motion learned. */
  warnings: string[];
}

/** Frame rate assumed when a format carries none: the SDK writes GIF previews at 8 fps. */
export const ASSUMED_FPS = 8;
/** Warn when the crop drops more than this share of the picture. */
const MAX_CROPPED = 0.25;
/** Warn when the model's frames lie further apart than this (s): a bounce or a wave between two of them is lost. */
const MAX_GAP_SECONDS = 0.25;

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** The plan of fitClip for `src`, without touching a pixel: what the model will see and what is thrown away. */
export const fitReport = (src: Frames, shape: ClipShape, opts: FitOptions = {}): FitReport => plan(src, shape, opts).report;

function plan(src: Frames, shape: ClipShape, opts: FitOptions): { report: FitReport; picks: number[] } {
  if (src.count < 2) throw new VideoFormatError(`a reference clip needs at least 2 frames to carry motion; this one has ${src.count}`);
  if (Math.min(src.width, src.height) < shape.size / 4)
    throw new VideoFormatError(
      `frames of ${src.width}×${src.height} are too small to make ${shape.size}×${shape.size} (need at least ${Math.ceil(shape.size / 4)} pixels a side)`,
    );
  const fit = opts.fit ?? "crop";
  const origin: FrameSource = src.source ?? { width: src.width, height: src.height, fps: src.fps ?? null, seconds: null, start: 0 };
  const fps = src.fps ?? origin.fps ?? ASSUMED_FPS;
  const decodedEnd = origin.start + src.count / fps;
  const seconds = origin.seconds ?? decodedEnd;
  const start = opts.start ?? origin.start;
  if (start < origin.start || start >= decodedEnd)
    throw new VideoFormatError(`start ${start} s is outside the clip, which runs from ${round(origin.start)} s to ${round(decodedEnd)} s`);
  if (opts.duration !== undefined && !(opts.duration > 0)) throw new VideoFormatError(`duration must be more than 0 s, got ${opts.duration}`);
  const end = Math.min(decodedEnd, opts.duration === undefined ? decodedEnd : start + opts.duration);
  // Decoded frames inside [start, end), first and last kept: the whole span, sped up or slowed down.
  const a = Math.min(src.count - 1, Math.round((start - origin.start) * fps));
  const b = Math.max(a, Math.min(src.count - 1, Math.ceil((end - origin.start) * fps) - 1));
  const picks = Array.from({ length: shape.frames }, (_, f) => a + Math.round((f * (b - a)) / Math.max(1, shape.frames - 1)));
  // Report frames in the source's count (the decoded ones may be fewer per second).
  const sourceFps = origin.fps ?? fps;
  const framesKept = picks.map((p) => Math.round((origin.start + p / fps) * sourceFps));
  const framesInSpan = Math.max(1, Math.round((end - start) * sourceFps));

  const side = fit === "crop" ? Math.min(origin.width, origin.height) : Math.max(origin.width, origin.height);
  const square = { x: Math.round((origin.width - side) / 2), y: Math.round((origin.height - side) / 2), side };
  const pictureKept = fit === "crop" ? (side * side) / (origin.width * origin.height) : 1;

  const warnings: string[] = [];
  if (1 - pictureKept > MAX_CROPPED) {
    warnings.push(
      `crop keeps the centre ${side}×${side} of ${origin.width}×${origin.height} (${Math.round(pictureKept * 100)}% of the picture): motion outside it is lost; fit "pad" keeps the whole picture`,
    );
  }
  const distinct = new Set(picks).size;
  if (distinct < shape.frames) {
    warnings.push(`the span holds ${b - a + 1} frames for the model's ${shape.frames}: ${shape.frames - distinct} are repeats, so the motion is slowed down`);
  }
  const gap = (end - start) / Math.max(1, shape.frames - 1);
  if (gap > MAX_GAP_SECONDS) {
    warnings.push(
      `the model's ${shape.frames} frames are spread over ${round(end - start, 1)} s, one every ${round(gap)} s: motion faster than that is lost; choose a shorter duration (about ${round(MAX_GAP_SECONDS * (shape.frames - 1), 1)} s keeps one every ${MAX_GAP_SECONDS} s)`,
    );
  }
  const report: FitReport = {
    source: { width: origin.width, height: origin.height, fps: origin.fps, seconds: round(seconds, 3), frames: Math.round(seconds * sourceFps) },
    fit,
    square,
    pictureKept: round(pictureKept, 3),
    span: { start: round(start, 3), end: round(end, 3) },
    framesKept,
    framesInSpan,
    output: shape,
    warnings,
  };
  return { report, picks };
}

/** The report in a few lines a person reads before the upload (the CLI prints it; warnings on lines of their own). */
export function describeFit(r: FitReport): string {
  const fps = r.source.fps === null ? `fps unknown (taken as ${ASSUMED_FPS})` : `${round(r.source.fps)} fps`;
  // A square picture is neither cropped nor padded; one of the model's size is not scaled either.
  const square = r.source.width === r.source.height;
  const scaled = `scaled to ${r.output.size}×${r.output.size}`;
  const picture = square
    ? r.source.width === r.output.size
      ? `used as it is (already the model's ${r.output.size}×${r.output.size}: nothing to crop, pad or scale)`
      : `the whole picture (square: nothing cropped or padded), ${scaled}`
    : r.fit === "crop"
      ? `crop to the centre ${r.square.side}×${r.square.side} (${Math.round(r.pictureKept * 100)}% of the picture), ${scaled}`
      : `pad to ${r.square.side}×${r.square.side} (the whole picture, bands of its border colour), ${scaled}`;
  const lines = [
    `source ${r.source.width}×${r.source.height}, ${fps}, ${r.source.seconds} s → ${picture}`,
    `frames: ${r.output.frames} of the ${r.framesInSpan} between ${r.span.start} s and ${r.span.end} s (source frames ${r.framesKept[0]}…${r.framesKept.at(-1)})`,
    ...r.warnings.map((w) => `warning: ${w}`),
  ];
  return lines.join("\n");
}

/** Fits `src` to the model's clip shape as `fitReport` plans it; the report says what was kept. */
export function fitClipReported(src: Frames, shape: ClipShape, opts: FitOptions = {}): { frames: Frames; report: FitReport } {
  const { report, picks } = plan(src, shape, opts);
  // The square in decoded pixels (a reader may have shrunk the picture).
  const side = report.fit === "crop" ? Math.min(src.width, src.height) : Math.max(src.width, src.height);
  const x0 = (src.width - side) / 2;
  const y0 = (src.height - side) / 2;
  const cell = side / shape.size;
  const fill = report.fit === "pad" ? borderColour(src, picks) : [0, 0, 0];
  const rgb = new Uint8Array(shape.frames * shape.size * shape.size * 3);
  for (const [f, sf] of picks.entries()) {
    const base = sf * src.width * src.height * 3;
    for (let y = 0; y < shape.size; y++) {
      for (let x = 0; x < shape.size; x++) {
        // Box filter over the source cell when shrinking; nearest pixel when enlarging; outside the picture, the fill.
        const ya = Math.floor(y0 + y * cell);
        const yb = Math.max(ya + 1, Math.floor(y0 + (y + 1) * cell));
        const xa = Math.floor(x0 + x * cell);
        const xb = Math.max(xa + 1, Math.floor(x0 + (x + 1) * cell));
        const sum = [0, 0, 0];
        for (let sy = ya; sy < yb; sy++) {
          for (let sx = xa; sx < xb; sx++) {
            const inside = sy >= 0 && sy < src.height && sx >= 0 && sx < src.width;
            for (let c = 0; c < 3; c++) sum[c]! += inside ? src.rgb[base + (sy * src.width + sx) * 3 + c]! : fill[c]!;
          }
        }
        const n = (yb - ya) * (xb - xa);
        for (let c = 0; c < 3; c++) rgb[((f * shape.size + y) * shape.size + x) * 3 + c] = Math.round(sum[c]! / n);
      }
    }
  }
  return { frames: { width: shape.size, height: shape.size, count: shape.frames, rgb }, report };
}

/** The mean colour of the picture's outermost pixels over the frames kept: bands that read as more background. */
function borderColour(src: Frames, picks: number[]): number[] {
  const sum = [0, 0, 0];
  let n = 0;
  const add = (base: number, x: number, y: number) => {
    for (let c = 0; c < 3; c++) sum[c]! += src.rgb[base + (y * src.width + x) * 3 + c]!;
    n++;
  };
  for (const sf of new Set(picks)) {
    const base = sf * src.width * src.height * 3;
    for (let x = 0; x < src.width; x++) {
      add(base, x, 0);
      add(base, x, src.height - 1);
    }
    for (let y = 1; y < src.height - 1; y++) {
      add(base, 0, y);
      add(base, src.width - 1, y);
    }
  }
  return sum.map((s) => Math.round(s / n));
}
