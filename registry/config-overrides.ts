import { z } from "zod";
import type { RegistryConfig } from "./config.ts";

const count = z.number().int().positive();
const ms = z.number().int().nonnegative();

/** The registry's public URL (config `publicUrl`): http(s), without a trailing slash. */
export const PublicUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://registry.example.com" })
  .transform((u) => u.replace(/\/+$/, ""));

/**
 * The settings an operator may override in a deployment's JSON (MOTION_LORA_CONFIG on both runtimes,
 * or `registry start --config FILE` on Node),
 * checked field by field: a typo or a wrong type would otherwise be ignored, or break requests
 * later in ways that do not name it. The base model is the build's, never an override.
 */
export const RegistryOverrides = z
  .object({
    blobLimits: z.object({ lora: count, video: count, preview: count }).partial().strict(),
    loraMaxHeaderBytes: count,
    loraMaxTensors: count.nullable(),
    loraMaxMetadataBytes: count,
    ownerQuotaBytes: count.nullable(),
    defaultRateLimitPerMinute: count,
    anonymousRateLimitPerMinute: count,
    galleryRateLimitPerMinute: count,
    rateLimitLeaseShare: z.number().min(0).max(1),
    failedAuthPerMinute: count,
    failedAuthPerAddressPerMinute: count,
    trustedProxies: z.array(z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], { error: "expected an IP address or a CIDR such as 10.0.0.0/8" })),
    trustCfConnectingIp: z.boolean(),
    maxAttempts: count,
    maxQueuedJobsPerOwner: count,
    maxRunningJobsPerOwner: count.nullable(),
    maxStreamsPerKey: count,
    streamPollMs: count,
    orphanGraceMs: ms,
    unreferencedBlobGraceMs: ms,
    jobBlobRetentionMs: ms,
    uploadReservationMs: count,
    readCacheTtlMs: ms,
    webhooks: z
      .object({
        allowPrivate: z.boolean(),
        maxAttempts: count,
        baseDelayMs: ms,
        timeoutMs: count,
        connectTimeoutMs: count,
        concurrency: count,
        perTenantConcurrency: count,
        progressEveryMs: ms,
        subrequestsPerDrain: count.nullable(),
      })
      .partial()
      .strict(),
    publicUrl: PublicUrl.nullable(),
    corsOrigins: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  })
  .partial()
  .strict();
export type RegistryOverrides = z.infer<typeof RegistryOverrides>;

/** The deployment's settings were refused; `message` names each field that is wrong and why. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly code = "invalid_config";
}

/** Parses an overrides JSON string (`source` names where it came from), or throws `ConfigError` naming what is wrong. */
export function parseOverrides(json: string | undefined, source: string): RegistryOverrides {
  if (json === undefined || json.trim() === "") return {};
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new ConfigError(`${source} is not JSON (${(e as Error).message}); set it to an object of RegistryConfig fields, e.g. {"readCacheTtlMs": 0}`);
  }
  const r = RegistryOverrides.safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(the whole value)"}: ${i.message}`);
    throw new ConfigError(`${source}: ${problems.join("; ")}`);
  }
  return r.data;
}

/** `overrides` over `base`, blob limits and webhook fields one by one (setting one keeps the rest). */
export function applyOverrides(base: RegistryConfig, overrides: RegistryOverrides): RegistryConfig {
  return {
    ...base,
    ...overrides,
    blobLimits: { ...base.blobLimits, ...overrides.blobLimits },
    webhooks: { ...base.webhooks, ...overrides.webhooks },
  };
}
