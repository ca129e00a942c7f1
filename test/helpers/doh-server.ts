import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

type Resolve = (host: string) => Promise<string[]>;

/**
 * A DNS-over-HTTPS server (the JSON API) on 127.0.0.1 that answers from `resolve`: how the Worker
 * build resolves webhook hosts in tests, so no lookup leaves loopback. Without `resolve`, every
 * name fails (SERVFAIL), as a resolver that cannot be reached would.
 */
export async function startDohServer(resolve?: Resolve): Promise<{ url: string; queries: string[]; close(): Promise<void> }> {
  const queries: string[] = [];
  const server = createServer((req, res) => {
    const q = new URL(req.url ?? "/", "http://x").searchParams;
    const name = q.get("name") ?? "";
    const type = Number(q.get("type"));
    queries.push(`${name} ${type === 28 ? "AAAA" : "A"}`);
    const answer = (body: unknown) => res.writeHead(200, { "content-type": "application/dns-json" }).end(JSON.stringify(body));
    if (!resolve) return answer({ Status: 2 });
    resolve(name).then(
      (all) => {
        const mine = all.filter((a) => a.includes(":") === (type === 28));
        answer({ Status: all.length ? 0 : 3, Answer: mine.map((data) => ({ name, type, TTL: 0, data })) });
      },
      () => answer({ Status: 2 }),
    );
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dns-query`,
    queries,
    close: () => {
      server.closeAllConnections();
      return new Promise((ok) => server.close(() => ok()));
    },
  };
}
