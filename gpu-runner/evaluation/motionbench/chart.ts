// A horizontal bar chart as RGB pixels, with a 3×5 pixel font for its labels: the benchmark's
// tuning-time figure, drawn without any image library.
import { encodePng } from "../../../sdk/video/png.ts";

// Each glyph: 5 rows of 3 bits (left bit first).
const FONT: Record<string, number[]> = {
  a: [2, 5, 7, 5, 5],
  b: [6, 5, 6, 5, 6],
  c: [3, 4, 4, 4, 3],
  d: [6, 5, 5, 5, 6],
  e: [7, 4, 6, 4, 7],
  f: [7, 4, 6, 4, 4],
  g: [3, 4, 5, 5, 3],
  h: [5, 5, 7, 5, 5],
  i: [7, 2, 2, 2, 7],
  j: [1, 1, 1, 5, 2],
  k: [5, 5, 6, 5, 5],
  l: [4, 4, 4, 4, 7],
  m: [5, 7, 7, 5, 5],
  n: [6, 5, 5, 5, 5],
  o: [2, 5, 5, 5, 2],
  p: [6, 5, 6, 4, 4],
  q: [2, 5, 5, 6, 3],
  r: [6, 5, 6, 5, 5],
  s: [3, 4, 2, 1, 6],
  t: [7, 2, 2, 2, 2],
  u: [5, 5, 5, 5, 7],
  v: [5, 5, 5, 5, 2],
  w: [5, 5, 7, 7, 5],
  x: [5, 5, 2, 5, 5],
  y: [5, 5, 2, 2, 2],
  z: [7, 1, 2, 4, 7],
  "0": [7, 5, 5, 5, 7],
  "1": [2, 6, 2, 2, 7],
  "2": [6, 1, 2, 4, 7],
  "3": [6, 1, 2, 1, 6],
  "4": [5, 5, 7, 1, 1],
  "5": [7, 4, 6, 1, 6],
  "6": [3, 4, 7, 5, 7],
  "7": [7, 1, 1, 2, 2],
  "8": [7, 5, 7, 5, 7],
  "9": [7, 5, 7, 1, 6],
  ".": [0, 0, 0, 0, 2],
  "-": [0, 0, 7, 0, 0],
  "+": [0, 2, 7, 2, 0],
  "/": [1, 1, 2, 4, 4],
  ":": [0, 2, 0, 2, 0],
  " ": [0, 0, 0, 0, 0],
  ",": [0, 0, 0, 2, 4],
  "(": [1, 2, 2, 2, 1],
  ")": [4, 2, 2, 2, 4],
  "=": [0, 7, 0, 7, 0],
  "×": [0, 5, 2, 5, 0],
};

class Canvas {
  readonly rgb: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rgb = new Uint8Array(width * height * 3).fill(255);
  }

  rect(x: number, y: number, w: number, h: number, c: [number, number, number]) {
    for (let yy = Math.max(0, y); yy < Math.min(this.height, y + h); yy++) {
      for (let xx = Math.max(0, x); xx < Math.min(this.width, x + w); xx++) this.rgb.set(c, (yy * this.width + xx) * 3);
    }
  }

  text(x: number, y: number, s: string, scale = 2, c: [number, number, number] = [0, 0, 0]) {
    for (const ch of s.toLowerCase()) {
      const g = FONT[ch] ?? FONT[" "]!;
      g.forEach((bits, row) => {
        for (let col = 0; col < 3; col++) if (bits & (4 >> col)) this.rect(x + col * scale, y + row * scale, scale, scale, c);
      });
      x += 4 * scale;
    }
  }
}

const PALETTE: [number, number, number][] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
];

/** Horizontal bars (one per label, value and its printed text) as a PNG. */
export async function barChart(title: string, bars: { label: string; value: number; text: string }[]): Promise<Uint8Array> {
  const labelW = Math.max(...bars.map((b) => b.label.length)) * 8 + 16;
  const barW = 420;
  const rowH = 22;
  const canvas = new Canvas(labelW + barW + 140, 40 + bars.length * rowH + 10);
  canvas.text(8, 8, title);
  const max = Math.max(...bars.map((b) => b.value), 1e-9);
  bars.forEach((b, i) => {
    const y = 36 + i * rowH;
    canvas.text(8, y + 4, b.label);
    const w = Math.max(1, Math.round((b.value / max) * barW));
    canvas.rect(labelW, y, w, rowH - 6, PALETTE[i % PALETTE.length]!);
    canvas.text(labelW + w + 6, y + 4, b.text);
  });
  return encodePng(canvas.rgb, canvas.width, canvas.height);
}
