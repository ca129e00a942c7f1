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
 * a limit kept in each isolate's memory would multiply by their number). One upsert per request:
 * refill, take and report happen in a single statement, so two instances cannot both take the last token.
 */
export class DbRateLimiter implements RateLimiter {
  constructor(private readonly db: Db) {}

  async wait(key: string, perMinute: number, now: number): Promise<number> {
    const [b] = await this.db.select().from(rateBuckets).where(eq(rateBuckets.key, key)).limit(1);
    if (!b) return 0;
    const tokens = Math.min(perMinute, b.tokens + (now - b.at) * (perMinute / 60_000));
    return tokens >= 1 ? 0 : secondsUntilOne(tokens, perMinute);
  }

  async take(key: string, perMinute: number, now: number): Promise<number> {
    const refilled = sql`min(${perMinute}, ${rateBuckets.tokens} + (${now} - ${rateBuckets.at}) * ${perMinute / 60_000})`;
    const [b] = await this.db
      .insert(rateBuckets)
      .values({ key, tokens: perMinute - 1, at: now, taken: 1 })
      .onConflictDoUpdate({
        target: rateBuckets.key,
        set: {
          tokens: sql`case when ${refilled} >= 1 then ${refilled} - 1 else ${refilled} end`,
          taken: sql`case when ${refilled} >= 1 then 1 else 0 end`,
          at: now,
        },
      })
      .returning({ tokens: rateBuckets.tokens, taken: rateBuckets.taken });
    return b!.taken ? 0 : secondsUntilOne(b!.tokens, perMinute);
  }

  /** Forgets buckets idle for `idleMs`: after a minute any bucket has refilled, so a missing row means the same. */
  async sweep(now: number, idleMs = 10 * 60_000): Promise<void> {
    await this.db.delete(rateBuckets).where(lt(rateBuckets.at, now - idleMs));
  }
}
