// A registry in its own process for the load benchmark, seeded with public LoRAs; prints its URL and an admin token.
import { once } from "node:events";
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { createKey } from "../auth/keys.ts";
import { startRegistry } from "../node.ts";
import { seedCatalog } from "./seed.ts";

const home = process.argv[2];
if (!home) throw new Error("usage: server.ts HOME [READ_CACHE_MS]");
const readCacheTtlMs = Number(process.argv[3] ?? 1_000);
// Limits far above the load, so the benchmark measures serving rather than the rate limiter.
const r = await startRegistry({ home, port: 0, log: () => {}, config: { anonymousRateLimitPerMinute: 1e9, readCacheTtlMs } });
const admin = await createKey(r.services.db, { owner: "admin", name: "bench", scopes: ["admin"], rate_limit_per_minute: 1_000_000 }, 1_000_000);
await seedCatalog(r.services);
// Baselines in plain Node http, no framework: PUT streams the body to a file with
// stream.pipeline (no hashing or checks); GET pipes a file to the socket.
const plain = createServer((req, res) => {
  if (req.method === "GET") {
    const file = join(home, String(new URL(req.url ?? "/", "http://x").searchParams.get("file")));
    res.writeHead(200, { "content-length": statSync(file).size });
    createReadStream(file, { highWaterMark: 1 << 20 }).pipe(res);
    return;
  }
  pipeline(req, createWriteStream(join(home, `plain-${Date.now()}-${Math.random()}`))).then(
    () => res.writeHead(201).end(),
    () => res.writeHead(500).end(),
  );
}).listen(0, "127.0.0.1");
await once(plain, "listening");
const plainPort = (plain.address() as { port: number }).port;
process.stdout.write(`${JSON.stringify({ url: r.url, token: admin.token, plain: `http://127.0.0.1:${plainPort}` })}\n`);
process.on("SIGTERM", () => void r.stop().then(() => process.exit(0)));
