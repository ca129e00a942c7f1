// Minimum-cost matching of tracks to detections. The tracker once searched every injective map,
// (n!/(n−k)!)·k! candidates: fine for the world's 1–3 objects, but a degenerate generation with 7
// blobs and 12 components a frame never finished. The Hungarian method is O(n³) whatever the count.

/**
 * Rows matched to distinct columns at the least total cost (Kuhn–Munkres with potentials); a
 * rectangular matrix matches min(rows, cols) pairs. Returns, per row, its column or −1.
 */
export function minCostAssignment(cost: number[][]): number[] {
  const rows = cost.length;
  const cols = rows ? cost[0]!.length : 0;
  if (!rows || !cols) return new Array(rows).fill(-1);
  // Square padding with zero-cost dummies: a real row left over pairs with a dummy column.
  const n = Math.max(rows, cols);
  const c = (i: number, j: number) => (i < rows && j < cols ? cost[i]![j]! : 0);
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const match = new Int32Array(n + 1); // column j (1-based) → row (1-based), 0 = free
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    match[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = match[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = c(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[match[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (match[j0] !== 0);
    do {
      const j1 = way[j0]!;
      match[j0] = match[j1]!;
      j0 = j1;
    } while (j0);
  }
  const out = new Array<number>(rows).fill(-1);
  for (let j = 1; j <= n; j++) if (match[j]! - 1 < rows && j - 1 < cols) out[match[j]! - 1] = j - 1;
  return out;
}
