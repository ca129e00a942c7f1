// Node-only helpers: files and the system ffmpeg. The rest of the SDK is fetch-only.
import { spawn } from "node:child_process";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import { MotionLoraError } from "./client/errors.ts";
import { encodeClipPng, framesFromRgb, type Frames } from "./video/frames.ts";
import { VideoFormatError } from "./video/errors.ts";
import { readFrames } from "./video/read.ts";
import { encodeGif } from "./video/gif.ts";

export * from "./index.ts";

/** ffmpeg is needed (MP4/WebM) but not installed. */
export class FfmpegMissingError extends MotionLoraError {
  override name = "FfmpegMissingError";
  constructor() {
    super("MP4/WebM need ffmpeg on PATH, which was not found; install it (e.g. `apt-get install ffmpeg`) or convert the clip to GIF", "ffmpeg_missing");
  }
}

/** The longer side ffmpeg decodes to: a few times the model's 32, the aspect ratio kept for the fit report. */
const FFMPEG_SIDE = 256;
/** At most this many frames are decoded from a span, however long: the picks are spread over all of them. */
const FFMPEG_FRAMES = 128;
const FFMPEG_EXT = new Set([".mp4", ".webm", ".mov", ".mkv", ".avi"]);

function ffmpeg(args: string[], input?: Uint8Array, tool = process.env.FFMPEG ?? "ffmpeg"): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, ["-v", "error", ...args], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.on("error", (e: NodeJS.ErrnoException) => reject(e.code === "ENOENT" ? new FfmpegMissingError() : e));
    child.on("close", (code) =>
      code === 0
        ? resolve(new Uint8Array(Buffer.concat(out)))
        : reject(new MotionLoraError(`ffmpeg failed (exit ${code}): ${err.trim().slice(-500)}`, "ffmpeg_failed")),
    );
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

/** A video file's picture size, frame rate and length (ffprobe, which ships with ffmpeg). */
async function probe(path: string): Promise<{ width: number; height: number; fps: number; seconds: number }> {
  const tool = process.env.FFPROBE ?? (process.env.FFMPEG ? join(dirname(process.env.FFMPEG), "ffprobe") : "ffprobe");
  const args = ["-select_streams", "v:0", "-show_entries", "stream=width,height,avg_frame_rate,r_frame_rate:format=duration", "-of", "json", path];
  const info = JSON.parse(new TextDecoder().decode(await ffmpeg(args, undefined, tool))) as {
    streams?: { width?: number; height?: number; avg_frame_rate?: string; r_frame_rate?: string }[];
    format?: { duration?: string };
  };
  const s = info.streams?.[0];
  const rate = (r?: string) => {
    const [n, d] = (r ?? "").split("/").map(Number);
    return n && d ? n / d : Number.NaN;
  };
  const fps = [rate(s?.avg_frame_rate), rate(s?.r_frame_rate)].find((r) => r > 0 && Number.isFinite(r));
  const seconds = Number(info.format?.duration);
  if (!s?.width || !s.height || !fps || !(seconds > 0))
    throw new MotionLoraError(`ffprobe found no video stream with a size, frame rate and length in ${path}`, "ffmpeg_failed");
  return { width: s.width, height: s.height, fps, seconds };
}

/**
 * A clip from a file: GIF, clip PNG, a folder of PNG frames (sorted by name), or MP4/WebM through
 * ffmpeg. For MP4/WebM only the span `start`..`start + duration` (seconds) is decoded, at most 128
 * frames of it, shrunk with its aspect ratio kept; the frames say where they came from (`source`),
 * so fitReport speaks of the file's own size, rate and length.
 */
export async function readVideoFile(path: string, span: { start?: number; duration?: number } = {}): Promise<Frames> {
  if ((await stat(path)).isDirectory()) {
    const names = (await readdir(path)).filter((n) => n.toLowerCase().endsWith(".png")).sort();
    return readFrames(await Promise.all(names.map(async (n) => new Uint8Array(await readFile(join(path, n))))));
  }
  if (FFMPEG_EXT.has(extname(path).toLowerCase())) {
    const src = await probe(path);
    const start = span.start ?? 0;
    if (start < 0 || start >= src.seconds) throw new VideoFormatError(`start ${start} s is outside the clip, which is ${src.seconds} s long`);
    const seconds = Math.min(src.seconds - start, span.duration ?? Number.POSITIVE_INFINITY);
    const fps = Math.min(src.fps, FFMPEG_FRAMES / seconds);
    const k = Math.min(1, FFMPEG_SIDE / Math.max(src.width, src.height));
    const [w, h] = [Math.max(2, Math.round(src.width * k)), Math.max(2, Math.round(src.height * k))];
    const vf = `fps=${fps},scale=${w}:${h}:flags=area`;
    const rgb = await ffmpeg(["-ss", String(start), "-t", String(seconds), "-i", path, "-vf", vf, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]);
    return { ...framesFromRgb(rgb, w, h), fps, source: { width: src.width, height: src.height, fps: src.fps, seconds: src.seconds, start } };
  }
  return readFrames(new Uint8Array(await readFile(path)));
}

/** Refuses, before any job is spent on it, an output path writeVideoFile could not write: its format, or ffmpeg missing. */
export async function checkVideoOutput(path: string): Promise<void> {
  const ext = extname(path).toLowerCase();
  if (ext === ".gif" || ext === ".png") return;
  if (!FFMPEG_EXT.has(ext)) throw new MotionLoraError(`cannot write '${ext || path}': use .gif, .png, .mp4 or .webm`, "unsupported_format");
  await ffmpeg(["-version"]);
}

/**
 * Writes frames as .gif (preview), .png (lossless clip PNG) or .mp4/.webm (through ffmpeg), at
 * `fps` (default: the frames' own rate, as read from a GIF or MP4, else 8); a GIF keeps it in its
 * frame delays, which readVideoFile reads back.
 */
export async function writeVideoFile(path: string, frames: Frames, opts: { scale?: number; fps?: number } = {}): Promise<void> {
  const ext = extname(path).toLowerCase();
  const fps = opts.fps ?? frames.fps ?? 8;
  if (ext === ".gif") return writeFile(path, encodeGif(frames, { scale: opts.scale ?? 4, delayMs: 1000 / fps }));
  if (ext === ".png") return writeFile(path, await encodeClipPng(frames));
  if (FFMPEG_EXT.has(ext)) {
    const scale = opts.scale ?? 4;
    await ffmpeg(
      [
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        `${frames.width}x${frames.height}`,
        "-r",
        String(fps),
        "-i",
        "-",
        "-vf",
        `scale=iw*${scale}:ih*${scale}:flags=neighbor`,
        "-pix_fmt",
        "yuv420p",
        path,
      ],
      frames.rgb,
    );
    return;
  }
  throw new MotionLoraError(`cannot write '${ext || path}': use .gif, .png, .mp4 or .webm`, "unsupported_format");
}

/** Uploads a file from disk as a blob of `kind` (hashed and verified like any upload). */
export async function uploadFile(client: import("./client/client.ts").MotionLora, path: string, kind: import("./schema/index.ts").BlobKind) {
  return client.blobs.upload(new Uint8Array(await readFile(path)), kind);
}
