// Node-only helpers: files and the system ffmpeg. The rest of the SDK is fetch-only.
import { spawn } from "node:child_process";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { MotionLoraError } from "./client/errors.ts";
import { encodeClipPng, framesFromRgb, type Frames } from "./video/frames.ts";
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

const FFMPEG_SIDE = 128;
const FFMPEG_EXT = new Set([".mp4", ".webm", ".mov", ".mkv", ".avi"]);

function ffmpeg(args: string[], input?: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.FFMPEG ?? "ffmpeg", ["-v", "error", ...args], { stdio: ["pipe", "pipe", "pipe"] });
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

/** A clip from a file: GIF, clip PNG, a folder of PNG frames (sorted by name), or MP4/WebM through ffmpeg. */
export async function readVideoFile(path: string): Promise<Frames> {
  if ((await stat(path)).isDirectory()) {
    const names = (await readdir(path)).filter((n) => n.toLowerCase().endsWith(".png")).sort();
    return readFrames(await Promise.all(names.map(async (n) => new Uint8Array(await readFile(join(path, n))))));
  }
  if (FFMPEG_EXT.has(extname(path).toLowerCase())) {
    // ffmpeg crops to the centre square and scales, so the raw frame size is known without probing.
    const vf = `crop='min(iw,ih)':'min(iw,ih)',scale=${FFMPEG_SIDE}:${FFMPEG_SIDE}`;
    const rgb = await ffmpeg(["-i", path, "-vf", vf, "-frames:v", "512", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]);
    return framesFromRgb(rgb, FFMPEG_SIDE, FFMPEG_SIDE);
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

/** Writes frames as .gif (preview), .png (lossless clip PNG) or .mp4/.webm (through ffmpeg). */
export async function writeVideoFile(path: string, frames: Frames, opts: { scale?: number; fps?: number } = {}): Promise<void> {
  const ext = extname(path).toLowerCase();
  const fps = opts.fps ?? 8;
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
