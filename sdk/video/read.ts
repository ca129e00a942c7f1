import { VideoFormatError } from "./errors.ts";
import { framesFromPngs, framesFromStrip, type Frames } from "./frames.ts";
import { decodeGif } from "./gif-decode.ts";
import { decodePng } from "./png-decode.ts";

/** Reads GIF, a PNG frame sequence (one PNG per frame) or a clip PNG by their magic bytes. */
export async function readFrames(input: Uint8Array | Uint8Array[]): Promise<Frames> {
  if (Array.isArray(input)) return input.length === 1 ? readFrames(input[0]!) : framesFromPngs(input);
  if (input[0] === 0x47 && input[1] === 0x49 && input[2] === 0x46) return decodeGif(input);
  if (input[0] === 0x89 && input[1] === 0x50) {
    const png = await decodePng(input);
    if (png.width % png.height === 0 && png.width > png.height) return framesFromStrip(png);
    throw new VideoFormatError(`a single PNG of ${png.width}×${png.height} is one frame; pass a clip PNG (frames side by side), a GIF or a list of PNG frames`);
  }
  throw new VideoFormatError(
    "unrecognised video format: give an animated GIF, PNG frames or a clip PNG (MP4/WebM through the Node helper readVideoFile, which uses ffmpeg)",
  );
}
