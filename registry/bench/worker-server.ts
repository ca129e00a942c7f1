// The Worker under workerd for the load benchmark, in its own process (like server.ts for Node):
// the benchmark's synchronous wrk and curl calls would otherwise stop this process from reading
// workerd's log pipe, and workerd blocks once the pipe is full. Prints its URL and an admin token.
// Usage: worker-server.ts [RATE_LIMIT_LEASE_SHARE]
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKey } from "../auth/keys.ts";
import { startLocalWorker } from "../worker-local.ts";
import { seedCatalog } from "./seed.ts";

const w = await startLocalWorker({
  home: await mkdtemp(join(tmpdir(), "motion-lora-bench-workerd-")),
  // Limits far above the load, as for Node; the Worker still pays its D1 rate-limit upsert per request.
  config: { anonymousRateLimitPerMinute: 1e9, readCacheTtlMs: 1_000, ...(process.argv[2] ? { rateLimitLeaseShare: Number(process.argv[2]) } : {}) },
  onLine: () => {},
});
const admin = await createKey(w.services.db, { owner: "admin", name: "bench", scopes: ["admin"], rate_limit_per_minute: 1_000_000 }, 1_000_000);
await seedCatalog(w.services);
process.stdout.write(`${JSON.stringify({ url: w.url, token: admin.token })}\n`);
process.on("SIGTERM", () => void w.stop().then(() => process.exit(0)));
