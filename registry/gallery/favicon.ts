import { encodePng } from "../../sdk/video/png.ts";

const SIZE = 32;
// The gallery's colours (style.ts): the page's background and its accent.
const BG = [0x11, 0x14, 0x18];
const ACCENT = [0xf5, 0x9e, 0x0b];

/**
 * The site icon: a disc with a fading trail behind it (a motion, like the LoRAs'), drawn here so the
 * Worker build carries no image file. A PNG served as /favicon.ico, which every browser reads.
 */
async function drawFavicon(): Promise<Uint8Array> {
  const rgb = new Uint8Array(SIZE * SIZE * 3);
  const discs = [
    { x: 8, y: 22, r: 4, a: 0.25 },
    { x: 14, y: 17, r: 5, a: 0.5 },
    { x: 21, y: 12, r: 7, a: 1 },
  ];
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const a = Math.max(0, ...discs.map((d) => (Math.hypot(x + 0.5 - d.x, y + 0.5 - d.y) <= d.r ? d.a : 0)));
      for (let c = 0; c < 3; c++) rgb[(y * SIZE + x) * 3 + c] = Math.round(BG[c]! + a * (ACCENT[c]! - BG[c]!));
    }
  }
  return encodePng(rgb, SIZE, SIZE);
}

let icon: Promise<Uint8Array> | undefined;
/** The icon's bytes, drawn once per process (isolate). */
export const favicon = (): Promise<Uint8Array> => (icon ??= drawFavicon());
