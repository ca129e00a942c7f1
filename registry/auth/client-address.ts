import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { BlockList, isIP } from "node:net";

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) is 10.0.0.1: one client, one bucket. */
const unmapped = (ip: string) => (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip) ? ip.slice(7) : ip);

/** An X-Forwarded-For entry as an address: "[::1]:80" and "1.2.3.4:80" lose their port; null when it is none. */
function entryAddress(entry: string): string | null {
  const e = entry.trim();
  const ip = /^\[([^\]]+)\](?::\d+)?$/.exec(e)?.[1] ?? /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(e)?.[1] ?? e;
  return isIP(ip) ? unmapped(ip) : null;
}

/**
 * The client of a request that reached this process from `peer`: the peer itself unless it is a
 * trusted proxy; then the rightmost X-Forwarded-For address that is not one (each trusted hop
 * appends the address it saw, so everything left of the first untrusted one is the client's to
 * write). An entry that is not an address ends the walk at the last trusted hop.
 */
export function forwardedClient(peer: string, forwardedFor: string | undefined, trusted: (ip: string) => boolean): string {
  let client = unmapped(peer);
  if (!trusted(client) || !forwardedFor) return client;
  const hops = forwardedFor.split(",");
  for (let i = hops.length - 1; i >= 0; i--) {
    const ip = entryAddress(hops[i]!);
    if (ip === null) return client;
    client = ip;
    if (!trusted(ip)) return ip;
  }
  return client;
}

/** Whether an address is one of `proxies` (addresses or CIDRs, as RegistryOverrides checks them). */
export function proxyMatcher(proxies: readonly string[]): (ip: string) => boolean {
  if (proxies.length === 0) return () => false;
  const list = new BlockList();
  for (const p of proxies) {
    const [ip, bits] = p.split("/") as [string, string | undefined];
    const type = isIP(ip) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(ip, type);
    else list.addSubnet(ip, Number(bits), type);
  }
  return (ip) => isIP(ip) !== 0 && list.check(ip, isIP(ip) === 6 ? "ipv6" : "ipv4");
}

/** The Node registry's client address: the socket's peer, or what trusted proxies forwarded. */
export function nodeClientAddress(trustedProxies: readonly string[]): (c: Context) => string {
  const trusted = proxyMatcher(trustedProxies);
  return (c) => forwardedClient(getConnInfo(c).remote.address ?? "unknown", c.req.header("x-forwarded-for"), trusted);
}
