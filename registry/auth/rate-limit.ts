import { eq, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { rateBuckets } from "../db/schema.ts";

/**
 * Token buckets per caller: a burst of up to a minute's allowance, refilled evenly. Both methods
 * return the seconds until `key` could take a token (0: now).
 */
export interface RateLimiter {
  /** Takes one token when there is one. */
  take(key: string, perMinute: number, now: number): Promise<number>;
  /** Looks without taking. */
  wait(key: string, perMinute: number, now: number): Promise<number>;
}

const secondsUntilOne = (tokens: number, perMinute: number) => Math.max(1, Math.ceil((1 - tokens) / (perMinute / 60_000) / 1000));

/** Buckets in this process's memory: one Node registry, the embedded default. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly maxEntries = 50_000) {}

  async wait(key: string, perMinute: number, now: number): Promise<number> {
    const b = this.buckets.get(key);
    if (!b) return 0;
    const tokens = Math.min(perMinute, b.tokens + (now - b.at) * (perMinute / 60_000));
    return tokens >= 1 ? 0 : secondsUntilOne(tokens, perMinute);
  }

  async take(key: string, perMinute: number, now: number): Promise<number> {
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
    b.tokens = Math.min(perMinute, b.tokens + (now - b.at) * (perMinute / 60_000));
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return secondsUntilOne(b.tokens, perMinute);
  }
}

/**
 * Buckets in the database, so every instance draws from the same one (Workers run many isolates;
 * a limit kept in each isolate's memory would multiply by their number). An instance leases a
 * share of a minute's allowance at a time (refill, grant and report in one upsert, so two
 * instances cannot both take the last token) and spends it locally: one database write per
 * `leaseShare` of the limit instead of one per request (config `rateLimitLeaseShare`, which cites
 * the benchmark). The limit is never exceeded: every token
 * still comes out of the shared bucket; a lease left unspent expires after `leaseMs`.
 */
export class DbRateLimiter implements RateLimiter {
  private readonly leases = new Map<string, { tokens: number; until: number }>();
  private readonly inflight = new Map<string, { waiters: number; left: Promise<number> }>();

  constructor(
    private readonly db: Db,
    private readonly leaseShare = 0.05,
    private readonly leaseMs = 10_000,
    private readonly maxEntries = 50_000,
  ) {}

  async wait(key: string, perMinute: number, now: number): Promise<number> {
    const lease = this.leases.get(key);
    if (lease && lease.until > now && lease.tokens >= 1) return 0;
    const [b] = await this.db.select().from(rateBuckets).where(eq(rateBuckets.key, key)).limit(1);
    if (!b) return 0;
    const tokens = Math.min(perMinute, b.tokens + (now - b.at) * (perMinute / 60_000));
    return tokens >= 1 ? 0 : secondsUntilOne(tokens, perMinute);
  }

  async take(key: string, perMinute: number, now: number): Promise<number> {
    // Tokens left in the shared bucket after the last lease this call waited on (none yet).
    let left = Number.POSITIVE_INFINITY;
    for (;;) {
      const lease = this.leases.get(key);
      if (lease && lease.until > now && lease.tokens >= 1) {
        lease.tokens -= 1;
        return 0;
      }
      // The bucket is empty: say when to retry. Otherwise others spent the lease first: lease again.
      if (left < 1) return secondsUntilOne(left, perMinute);
      // Requests that ran out together share a lease in flight while it holds a token for each of
      // them; only the rest lease more. Each leasing its own share would drain the bucket (64
      // requests, 20 shares) and refuse requests while this instance held most of it.
      const want = Math.max(1, Math.floor(perMinute * this.leaseShare));
      let pending = this.inflight.get(key);
      if (pending && pending.waiters < want) pending.waiters++;
      else {
        const next = { waiters: 1, left: this.lease(key, perMinute, want, now) };
        next.left.finally(() => this.inflight.get(key) === next && this.inflight.delete(key)).catch(() => {});
        this.inflight.set(key, next);
        pending = next;
      }
      left = await pending.left;
    }
  }

  /** Refills, grants and reports in one upsert; adds the grant to this instance's pool and returns the tokens left in the bucket. */
  private async lease(key: string, perMinute: number, want: number, now: number): Promise<number> {
    const refilled = sql`min(${perMinute}, ${rateBuckets.tokens} + (${now} - ${rateBuckets.at}) * ${perMinute / 60_000})`;
    const granted = sql`min(${want}, cast(${refilled} as integer))`;
    const [b] = await this.db
      .insert(rateBuckets)
      .values({ key, tokens: perMinute - Math.min(want, perMinute), at: now, taken: Math.min(want, perMinute) })
      .onConflictDoUpdate({
        target: rateBuckets.key,
        set: { tokens: sql`${refilled} - max(${granted}, 0)`, taken: sql`max(${granted}, 0)`, at: now },
      })
      .returning({ tokens: rateBuckets.tokens, taken: rateBuckets.taken });
    if (b!.taken >= 1) {
      const pool = this.leases.get(key);
      const live = pool && pool.until > now ? pool.tokens : 0;
      if (this.leases.size >= this.maxEntries && !pool) this.leases.delete(this.leases.keys().next().value!);
      this.leases.set(key, { tokens: live + b!.taken, until: now + this.leaseMs });
    }
    return b!.tokens;
  }

  /** Forgets buckets idle for `idleMs`: after a minute any bucket has refilled, so a missing row means the same. */
  async sweep(now: number, idleMs = 10 * 60_000): Promise<void> {
    await this.db.delete(rateBuckets).where(lt(rateBuckets.at, now - idleMs));
  }
}
