/**
 * The head classification of a tune as an SVG heat map: a row per block, a column per head, each
 * cell coloured by how much more its attention resembles the temporal pseudo map than the spatial
 * one (orange temporal, blue spatial), outlined where the motion LoRA adapts the head.
 */
export function headsSvg(scores: [number, number][][], targets: number[][]): string {
  const cell = 18;
  const rows = scores.length;
  const cols = Math.max(0, ...scores.map((r) => r.length));
  const cells = scores.flatMap((row, b) =>
    row.map(([spatial, temporal], h) => {
      const d = Math.max(-1, Math.min(1, (temporal - spatial) * 4));
      // Blue (spatial) through grey to orange (temporal).
      const [r, g, bl] = d >= 0 ? [128 + 112 * d, 128 + 12 * d, 128 - 100 * d] : [128 + 88 * d, 128 + 8 * d, 128 - 112 * d];
      const target = targets[b]?.includes(h) ?? false;
      const fill = `rgb(${Math.round(r)},${Math.round(g)},${Math.round(bl)})`;
      const title = `block ${b}, head ${h}: spatial ${spatial.toFixed(2)}, temporal ${temporal.toFixed(2)}${target ? " (motion LoRA)" : ""}`;
      return `<rect x="${h * cell + 1}" y="${b * cell + 1}" width="${cell - 2}" height="${cell - 2}" fill="${fill}"${target ? ' stroke="#fff" stroke-width="2"' : ""}><title>${title}</title></rect>`;
    }),
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="head classification: ${rows} blocks × ${cols} heads" width="${cols * cell}" height="${rows * cell}" viewBox="0 0 ${cols * cell} ${rows * cell}">${cells.join("")}</svg>`;
}
