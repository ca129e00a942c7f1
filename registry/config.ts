import type { BlobKind, RunnerOnDemand } from "../sdk/schema/index.ts";
import { SHIPPED_BASE_MODEL, type BaseModelSpec } from "./base-model/spec.ts";
import { defaultWebhookConfig, type WebhookConfig } from "./webhooks/config.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export interface RegistryConfig {
  /** Largest accepted blob per kind, in bytes, enforced while the upload streams. */
  blobLimits: Record<BlobKind, number>;
  /**
   * The model LoRAs must fit (tensor names, shapes, rank, base model hash) and prompts must be
   * written for (vocabulary). base-model/artifacts.ts reads it from gpu-runner/artifacts when present.
   */
  baseModel: BaseModelSpec;
  /**
   * A LoRA file's safetensors header: its bytes, its tensors (null: an A and a B per projection per
   * block of the base model) and its `__metadata__` block. Bounded so that no upload or publish
   * parses more JSON than a LoRA of this model can need (a hostile 95 MB header stalled the event loop).
   */
  loraMaxHeaderBytes: number;
  loraMaxTensors: number | null;
  loraMaxMetadataBytes: number;
  /** Bytes each owner may upload in total (write keys; runner and admin keys are exempt); null: no quota. */
  ownerQuotaBytes: number | null;
  /** Requests a minute for a key without its own limit, and for each anonymous client address. */
  defaultRateLimitPerMinute: number;
  anonymousRateLimitPerMinute: number;
  /**
   * Gallery requests (pages, previews, its script) a minute per client address: a page of 24 cards
   * is about 27 requests, so this lets a visitor browse ~40 pages a minute while bounding a scraper.
   */
  galleryRateLimitPerMinute: number;
  /**
   * Where rate limits live in the database (Workers): the share of a minute's allowance an instance
   * leases per write (0: a write per request). On local workerd 0.05 served 1,814 GETs/s against
   * 457 with a write per request (registry/bench/results/RESULTS-load-node-workerd.md); the limit
   * is never exceeded either way (registry/auth/rate-limit.test.ts).
   */
  rateLimitLeaseShare: number;
  /**
   * Failed authentications a minute with one key prefix (a token's first 10 characters) from one
   * client address, and with any key from one address, before that sender's failures get 429
   * instead of 401. Only failures spend them: a valid key is always served (keys carry 160 random
   * bits, so refusing right keys would stop no guessing, and behind a NAT it locked everyone out).
   */
  failedAuthPerMinute: number;
  failedAuthPerAddressPerMinute: number;
  /**
   * Node: the reverse proxies (addresses or CIDRs) whose X-Forwarded-For is believed; the client is
   * the rightmost address in it that is not one of them. Empty: the socket's peer is the client.
   */
  trustedProxies: string[];
  /**
   * Workers: take the client's address from CF-Connecting-IP. Cloudflare's edge sets it on every
   * request (a client cannot forge it there); under local workerd (`npm run dev:worker`) a client
   * sends what it likes, so worker-local.ts turns it off and every client is "local".
   */
  trustCfConnectingIp: boolean;
  /** Claims of one job before it fails for good. */
  maxAttempts: number;
  /**
   * Jobs one owner may have queued at once; creating one more is a 429 `queue_full`. Bounds how far
   * one owner's backlog can reach, since claims take owners in turn (registry/jobs/fair-share.ts).
   */
  maxQueuedJobsPerOwner: number;
  /**
   * Jobs of one owner that runners may hold at once (null: no cap). Turns already give an owner who
   * arrives the next free runner; a cap also keeps runners back for owners yet to come, and leaves
   * them idle when one owner alone has work.
   */
  maxRunningJobsPerOwner: number | null;
  /**
   * Event streams (GET /v1/jobs/:id/events) one key may hold open on one instance (a Worker isolate,
   * a Node process); one more is a 429 `too_many_streams`.
   */
  maxStreamsPerKey: number;
  /**
   * How often an instance reads the jobs its open streams watch: one query for all of them, so an
   * event another instance appended arrives within about this long (this instance's own at once).
   */
  streamPollMs: number;
  /** A blob file with no row (a crash between write and insert) is collected after this long. */
  orphanGraceMs: number;
  /**
   * An upload nothing of its owner's uses (no live LoRA's version, no job) stops counting against
   * the owner's quota after this long, and the blob is collected once nothing at all uses it.
   */
  unreferencedBlobGraceMs: number;
  /** How long a finished job keeps its inputs and results (and a deleted LoRA's versions it ran with) from collection. */
  jobBlobRetentionMs: number;
  /** How long an upload in flight holds its declared bytes against its owner's quota (a crashed instance's hold lapses then). */
  uploadReservationMs: number;
  /** How long a catalog read may be served from memory; bounds staleness across instances (0 disables). */
  readCacheTtlMs: number;
  webhooks: WebhookConfig;
  /**
   * The registry's public URL, which the gallery's SDK, CLI and curl snippets name. Never taken from
   * a request: its Host header is the client's to write, and a cache would serve the page to others.
   * Node defaults to the address it listens on (a local registry's own); a Worker to its
   * REGISTRY_URL. null: the snippets read it from $MOTION_LORA_REGISTRY.
   */
  publicUrl: string | null;
  /** Origins browsers may call the API from ("*" is safe: auth is a bearer token, never a cookie). */
  corsOrigins: string | string[];
  /**
   * How this registry gets a runner while jobs wait and none is connected, as a queued job's
   * standing tells it (QueueState.runner_on_demand): `local`, it starts one itself (Node's
   * `--runner local`); `webhook`, it asks a platform ("runner.needed": Node's `--runner webhook`, a
   * Worker's RUNNER_WEBHOOK_URL); null, it starts none. Set from those, never an operator override.
   */
  runnerOnDemand: RunnerOnDemand | null;
}

export const defaultConfig: RegistryConfig = {
  blobLimits: { lora: 256 * MiB, video: 64 * MiB, preview: 16 * MiB },
  baseModel: SHIPPED_BASE_MODEL,
  // 48 tensor entries take ~6 KiB of JSON; the rest is room for the metadata block.
  loraMaxHeaderBytes: 96 * KiB,
  loraMaxTensors: null,
  loraMaxMetadataBytes: 64 * KiB,
  ownerQuotaBytes: 10 * GiB,
  defaultRateLimitPerMinute: 600,
  anonymousRateLimitPerMinute: 300,
  galleryRateLimitPerMinute: 1_200,
  rateLimitLeaseShare: 0.05,
  failedAuthPerMinute: 30,
  failedAuthPerAddressPerMinute: 300,
  trustedProxies: [],
  trustCfConnectingIp: false,
  maxAttempts: 3,
  maxQueuedJobsPerOwner: 100,
  maxRunningJobsPerOwner: null,
  // An app that watches each of its jobs: 32 at once, far below what strains an instance (1,500 did).
  maxStreamsPerKey: 32,
  streamPollMs: 1_000,
  orphanGraceMs: 60 * 60 * 1000,
  unreferencedBlobGraceMs: 24 * 60 * 60 * 1000,
  jobBlobRetentionMs: 7 * 24 * 60 * 60 * 1000,
  // A 256 MiB LoRA at 1 MiB/s takes 4–5 minutes.
  uploadReservationMs: 60 * 60 * 1000,
  // GET a LoRA 3.0 k req/s with the cache, 1.1 k without (registry/bench/results/RESULTS-load-sqlite.md).
  readCacheTtlMs: 1_000,
  webhooks: defaultWebhookConfig,
  corsOrigins: "*",
  publicUrl: null,
  runnerOnDemand: null,
};
