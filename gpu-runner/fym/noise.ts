/**
 * Counter-based Gaussian noise: element i of seed s is a pure function of (s, i), the same here and
 * in the torch process (gpu-runner/model/fymnet/training/noise.py `seeded_normals`), so a training
 * step's noise does not depend on the engine or on which other LoRAs share its batch.
 */

/** murmur3's 32-bit finaliser. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** `count` standard normals for `seed` (an integer in [0, 2^32)), Box–Muller over hashed counters. */
export function seededNormals(seed: number, count: number): Float32Array {
  const out = new Float32Array(count);
  const s = Math.imul(seed >>> 0, 0x9e3779b1);
  // The torch process computes in float32: round where it rounds, so both sides draw the same numbers.
  const f = Math.fround;
  for (let i = 0; i < count; i++) {
    const base = (s + 2 * i) >>> 0;
    const u1 = f(f(f(mix32(mix32(base))) + 0.5) / 4294967296);
    const u2 = f(f(f(mix32(mix32((base + 1) >>> 0))) + 0.5) / 4294967296);
    out[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return out;
}
