/**
 * Token buckets per caller, in memory: a burst of up to a minute's allowance, refilled evenly.
 * Per process; a multi-instance deployment would move this to a shared store (Durable Object, KV).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly maxEntries = 50_000) {}

  /** The seconds until `key` could take a token (0: it can now), taking nothing. */
  wait(key: string, perMinute: number, now: number): number {
    const b = this.buckets.get(key);
    if (!b) return 0;
    const rate = perMinute / 60_000;
    const tokens = Math.min(perMinute, b.tokens + (now - b.at) * rate);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / rate / 1000));
  }

  /** Takes one token; returns 0 when allowed, else the seconds to wait. */
  take(key: string, perMinute: number, now: number): number {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxEntries) {
        // Drop the oldest entry (Map keeps insertion order); it refills to full anyway.
        const first = this.buckets.keys().next().value;
        if (first !== undefined) this.buckets.delete(first);
      }
      b = { tokens: perMinute, at: now };
      this.buckets.set(key, b);
    }
    const rate = perMinute / 60_000;
    b.tokens = Math.min(perMinute, b.tokens + (now - b.at) * rate);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }
}
