import { constants, deflateRawSync } from "node:zlib";
import { concatBytes, rgbPng } from "../../sdk/video/png.ts";

/**
 * A zlib stream that inflates to `inflated` zero bytes, built without ever holding them: 1 MiB of
 * zeros deflated with a full flush is a byte-aligned block that repeats verbatim (the dictionary
 * is reset), so the stream is that block `inflated / 1 MiB` times, a final empty block and the
 * Adler-32 (a = 1, b = n mod 65521 for n zeros). About 1 KiB compressed per MiB inflated.
 */
export function zeroBomb(inflated: number): Uint8Array {
  const MiB = 1 << 20;
  if (inflated % MiB !== 0) throw new RangeError("a whole number of MiB");
  const block = deflateRawSync(new Uint8Array(MiB), { finishFlush: constants.Z_FULL_FLUSH });
  const last = deflateRawSync(new Uint8Array(0));
  const adler = new Uint8Array(4);
  new DataView(adler.buffer).setUint32(0, ((inflated % 65521) << 16) | 1);
  return concatBytes([Uint8Array.of(0x78, 0x9c), ...Array<Uint8Array>(inflated / MiB).fill(block), last, adler]);
}

/** A PNG whose header declares `width`×`height` RGB and whose IDAT is `idat` (a zlib stream). */
export const pngWith = rgbPng;

/** A clip-sized PNG (16 frames of 32×32 side by side) whose image data inflates to `inflated` bytes. */
export const clipBomb = (inflated: number) => pngWith(16 * 32, 32, zeroBomb(inflated));
