/** How job webhooks are delivered; part of the registry's config, so this module imports nothing. */
export interface WebhookConfig {
  /** Deliver to loopback/private addresses (tests, on-premise installs); off by default (SSRF). */
  allowPrivate: boolean;
  maxAttempts: number;
  /** First retry delay; doubles each attempt (with jitter). */
  baseDelayMs: number;
  /** Until the receiver's status line arrives. */
  timeoutMs: number;
  /** Until the connection is up: a receiver that is down costs this, not the whole timeout. */
  connectTimeoutMs: number;
  /** Deliveries in flight at once, across all tenants. */
  concurrency: number;
  /** Deliveries in flight at once for one tenant (job owner): its slow receivers delay only it. */
  perTenantConcurrency: number;
  /** At most one progress webhook per job this often. */
  progressEveryMs: number;
  /**
   * Subrequests (database queries and POSTs) one `drain` may make; null: no bound. Workers cap an
   * invocation's subrequests (Free plan: 50, D1 queries included), so a drain stops short of the
   * cap and leaves the rest pending for the next request's drain or the cron's.
   */
  subrequestsPerDrain: number | null;
}

export const defaultWebhookConfig: WebhookConfig = {
  allowPrivate: false,
  maxAttempts: 8,
  baseDelayMs: 1_000,
  timeoutMs: 10_000,
  connectTimeoutMs: 3_000,
  concurrency: 32,
  perTenantConcurrency: 2,
  progressEveryMs: 1_000,
  subrequestsPerDrain: null,
};
