import type { Principal } from "./auth/keys.ts";
import type { RateLimiter } from "./auth/rate-limit.ts";
import type { BlobService } from "./blobs/service.ts";
import type { BlobStore } from "./blobs/store.ts";
import type { RegistryConfig } from "./config.ts";
import type { Db } from "./db/client.ts";
import type { JobEventLog } from "./jobs/events.ts";
import type { JobQueue } from "./jobs/queue.ts";
import type { StreamWatch } from "./jobs/stream-watch.ts";
import type { VersionPublisher } from "./loras/publish.ts";
import type { LoraService } from "./loras/service.ts";
import type { WebhookService } from "./webhooks/service.ts";

/** Everything a route needs, built once per app from the injected database and blob store. */
export interface Services {
  db: Db;
  store: BlobStore;
  config: RegistryConfig;
  blobs: BlobService;
  loras: LoraService;
  publisher: VersionPublisher;
  jobs: JobQueue;
  events: JobEventLog;
  streams: StreamWatch;
  limiter: RateLimiter;
  webhooks: WebhookService;
}

export type AppEnv = { Variables: { principal: Principal; requestId: string } };
