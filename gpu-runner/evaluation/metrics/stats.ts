// Seeded bootstrap intervals for MotionBench tables. Several prompts and seeds of one reference
// case are correlated (same motion, same LoRA), so intervals resample whole cases (clusters), and
// comparisons between configs are paired on (case, prompt, seed) before resampling.

/** mulberry32: a small deterministic PRNG, uniform in [0, 1); the same seed gives the same intervals. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Interval {
  mean: number;
  lo: number;
  hi: number;
  n: number; // observations (rows or pairs), not clusters
  clusters?: number;
}

export interface BootstrapOptions {
  iters?: number;
  level?: number; // two-sided coverage of the percentile interval
  seed?: number;
}

function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, q * (sorted.length - 1)));
  const lo = Math.floor(i);
  return sorted[lo]! + (sorted[Math.min(sorted.length - 1, lo + 1)]! - sorted[lo]!) * (i - lo);
}

function interval(point: number, draws: number[], level: number, n: number, clusters?: number): Interval {
  const finite = draws.filter(Number.isFinite).sort((a, b) => a - b);
  const a = (1 - level) / 2;
  return { mean: point, lo: percentile(finite, a), hi: percentile(finite, 1 - a), n, ...(clusters === undefined ? {} : { clusters }) };
}

const mean = (v: number[]) => (v.length ? v.reduce((s, x) => s + x, 0) / v.length : NaN);

/** Mean of `values` with its percentile bootstrap interval (rows resampled independently). */
export function bootstrapMean(values: number[], opts: BootstrapOptions = {}): Interval {
  const { iters = 2000, level = 0.9, seed = 1 } = opts;
  const rand = mulberry32(seed);
  const n = values.length;
  const draws: number[] = [];
  for (let it = 0; it < iters && n; it++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rand() * n)]!;
    draws.push(s / n);
  }
  return interval(mean(values), draws, level, n);
}

function groupBy<T>(rows: T[], key: (r: T) => string): T[][] {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    (m.get(k) ?? m.set(k, []).get(k)!).push(r);
  }
  return [...m.values()];
}

/**
 * Bootstrap over clusters: resample whole clusters with replacement and recompute `stat` on their
 * pooled rows. The default statistic is the mean of `valueFn` over rows.
 */
export function clusterBootstrap<T>(
  rows: T[],
  clusterKey: (r: T) => string,
  valueFn: (r: T) => number,
  opts: BootstrapOptions & { stat?: (rows: T[]) => number } = {},
): Interval {
  const { iters = 2000, level = 0.9, seed = 1 } = opts;
  const stat = opts.stat ?? ((rs: T[]) => mean(rs.map(valueFn)));
  const clusters = groupBy(rows, clusterKey);
  const rand = mulberry32(seed);
  const draws: number[] = [];
  for (let it = 0; it < iters && clusters.length; it++) {
    const pooled: T[] = [];
    for (let i = 0; i < clusters.length; i++) pooled.push(...clusters[Math.floor(rand() * clusters.length)]!);
    draws.push(stat(pooled));
  }
  return interval(stat(rows), draws, level, rows.length, clusters.length);
}

export interface Pair<T> {
  a: T;
  b: T;
}

/** Rows of A and B joined on `pairKey` (rows without a partner are dropped). */
export function pairRows<T>(rowsA: T[], rowsB: T[], pairKey: (r: T) => string): Pair<T>[] {
  const byKey = new Map(rowsB.map((r) => [pairKey(r), r] as const));
  return rowsA.flatMap((a) => {
    const b = byKey.get(pairKey(a));
    return b === undefined ? [] : [{ a, b }];
  });
}

/**
 * Mean of value(A) − value(B) over pairs (same case, prompt, seed) with its cluster-bootstrap
 * interval; n is the number of pairs. Pairing removes what the pair shares (the case's difficulty,
 * the sampling seed's luck) from the interval.
 */
export function pairedDifference<T>(
  rowsA: T[],
  rowsB: T[],
  pairKey: (r: T) => string,
  clusterKey: (r: T) => string,
  valueFn: (r: T) => number,
  opts: BootstrapOptions = {},
): Interval {
  const pairs = pairRows(rowsA, rowsB, pairKey);
  return clusterBootstrap(
    pairs,
    (p) => clusterKey(p.a),
    (p) => valueFn(p.a) - valueFn(p.b),
    opts,
  );
}

/**
 * Ratio of means mean(value(A)) / mean(value(B)) over pairs, with a cluster-bootstrap interval:
 * appearance integrity is accuracy with the LoRA over accuracy without it, on the same prompts and seeds.
 */
export function ratioOfMeans<T>(
  rowsA: T[],
  rowsB: T[],
  pairKey: (r: T) => string,
  clusterKey: (r: T) => string,
  valueFn: (r: T) => number,
  opts: BootstrapOptions = {},
): Interval {
  const pairs = pairRows(rowsA, rowsB, pairKey);
  const stat = (ps: Pair<T>[]) => {
    const den = mean(ps.map((p) => valueFn(p.b)));
    return den > 0 ? mean(ps.map((p) => valueFn(p.a))) / den : NaN;
  };
  return clusterBootstrap(
    pairs,
    (p) => clusterKey(p.a),
    () => 0,
    { ...opts, stat },
  );
}
