import type { BlobKind } from "../sdk/schema/index.ts";
import { defaultWebhookConfig, type WebhookConfig } from "./webhooks/service.ts";

const MiB = 1024 * 1024;

export interface RegistryConfig {
  /** Largest accepted blob per kind, in bytes, enforced while the upload streams. */
  blobLimits: Record<BlobKind, number>;
  /** Requests a minute for a key without its own limit, and for each anonymous client address. */
  defaultRateLimitPerMinute: number;
  anonymousRateLimitPerMinute: number;
  /** Claims of one job before it fails for good. */
  maxAttempts: number;
  /** A blob file with no row (a crash between write and insert) is collected after this long. */
  orphanGraceMs: number;
  /** How long a catalog read may be served from memory; bounds staleness across instances (0 disables). */
  readCacheTtlMs: number;
  webhooks: WebhookConfig;
  /** Origins browsers may call the API from ("*" is safe: auth is a bearer token, never a cookie). */
  corsOrigins: string | string[];
}

export const defaultConfig: RegistryConfig = {
  blobLimits: { lora: 256 * MiB, video: 64 * MiB, preview: 16 * MiB },
  defaultRateLimitPerMinute: 600,
  anonymousRateLimitPerMinute: 300,
  maxAttempts: 3,
  orphanGraceMs: 60 * 60 * 1000,
  readCacheTtlMs: 1_000,
  webhooks: defaultWebhookConfig,
  corsOrigins: "*",
};
