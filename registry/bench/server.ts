// A registry in its own process for the load benchmark, seeded with public LoRAs; prints its URL and an admin token.
import { once } from "node:events";
import { open } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { createKey } from "../auth/keys.ts";
import { startRegistry } from "../node.ts";

const home = process.argv[2];
if (!home) throw new Error("usage: server.ts HOME");
// Limits far above the load, so the benchmark measures serving rather than the rate limiter.
const r = await startRegistry({ home, port: 0, log: () => {}, config: { anonymousRateLimitPerMinute: 1e9 } });
const admin = await createKey(r.services.db, { owner: "admin", name: "bench", scopes: ["admin"], rate_limit_per_minute: 1_000_000 }, 1_000_000);
const p = { keyId: "bench", owner: "bench", scopes: ["admin" as const], rateLimitPerMinute: 1e9 };
for (let i = 0; i < 200; i++) {
  await r.services.loras.create(p, {
    name: `motion-${i}`,
    title: `Motion ${i} ${["orbit", "zigzag", "pan", "walk"][i % 4]}`,
    description: "benchmark fixture",
    category: (["single-object", "multiple-objects", "camera-motion", "human-motion"] as const)[i % 4],
    tags: ["bench", `t${i % 10}`],
    license: "cc-by-4.0",
    visibility: "public",
  });
}
// The upload baseline: the same bytes streamed to a file by plain Node http, no hashing or checks.
const plain = createServer(async (req, res) => {
  const fh = await open(join(home, `plain-${Date.now()}-${Math.random()}`), "w");
  for await (const chunk of req) await fh.write(chunk as Buffer);
  await fh.close();
  res.writeHead(201).end();
}).listen(0, "127.0.0.1");
await once(plain, "listening");
const plainPort = (plain.address() as { port: number }).port;
process.stdout.write(JSON.stringify({ url: r.url, token: admin.token, plain: `http://127.0.0.1:${plainPort}` }) + "\n");
process.on("SIGTERM", () => void r.stop().then(() => process.exit(0)));
