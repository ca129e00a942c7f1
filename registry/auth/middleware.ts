import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv, Services } from "../context.ts";
import { RegistryError } from "../http/errors.ts";
import { anonymous, authenticate, TOKEN_PREFIX } from "./keys.ts";

/** How many of a token's characters name it in a failure bucket: the prefix `keys list` shows ("mlk_" and 6 more). */
const PREFIX_LENGTH = TOKEN_PREFIX.length + 6;

/**
 * The buckets a failed authentication spends: one for the key prefix it presented from its
 * address (a client retrying one bad key), one for every failure from that address (a flood that
 * rotates keys). Each token is checked before any of them is read, so a right key is served however
 * empty they are: another client's failures at the same address (a NAT, a proxy, the local runner
 * beside a broken script) never cost it a request.
 */
function failureBuckets(address: string, token: string | null): string[] {
  const prefix = token?.startsWith(TOKEN_PREFIX) ? token.slice(0, PREFIX_LENGTH) : "malformed";
  return [`authfail:${address}:${prefix}`, `authfail:${address}`];
}

/** Authenticates a request's bearer token (anonymous without one) and spends its rate limit: everything under /v1. */
export function authAndRateLimit(services: Services, clientAddress: (c: Context) => string): MiddlewareHandler<AppEnv> {
  const { config, limiter } = services;
  return async (c, next) => {
    const auth = c.req.header("authorization");
    const address = clientAddress(c);
    let principal = anonymous(config.anonymousRateLimitPerMinute);
    if (auth !== undefined) {
      const token = /^Bearer\s+(\S+)$/i.exec(auth)?.[1] ?? null;
      try {
        if (token === null) throw new RegistryError("invalid_api_key", "the Authorization header must be 'Bearer mlk_…'");
        principal = await authenticate(services.db, token);
      } catch (e) {
        if (!(e instanceof RegistryError) || e.status !== 401) throw e;
        const now = Date.now();
        const [pair, all] = failureBuckets(address, token) as [string, string];
        const waits = [await limiter.take(pair, config.failedAuthPerMinute, now), await limiter.take(all, config.failedAuthPerAddressPerMinute, now)];
        const wait = Math.max(...waits);
        if (wait > 0) {
          throw new RegistryError(
            "rate_limited",
            `too many failed authentications from this address (${e.message}); fix the key before retrying, in ${wait} s`,
            undefined,
            { "Retry-After": String(wait) },
          );
        }
        throw e;
      }
    }
    c.set("principal", principal);
    const bucket = principal.keyId ?? `anon:${address}`;
    const wait = await limiter.take(bucket, principal.rateLimitPerMinute, Date.now());
    if (wait > 0) {
      throw new RegistryError("rate_limited", `rate limit of ${principal.rateLimitPerMinute} requests/minute reached; retry in ${wait} s`, undefined, {
        "Retry-After": String(wait),
      });
    }
    await next();
  };
}
