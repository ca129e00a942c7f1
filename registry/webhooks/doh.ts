import * as z from "zod";
import type { Resolve } from "./url.ts";

/** Cloudflare's resolver, reachable from every Worker; any server of the JSON API (RFC 8484's JSON form, as Google and Cloudflare serve it) will do. */
export const DEFAULT_DOH_URL = "https://cloudflare-dns.com/dns-query";

const A = 1;
const AAAA = 28;

const Answer = z.object({
  Status: z.number().int(),
  Answer: z.array(z.object({ type: z.number().int(), data: z.string() })).optional(),
});

/**
 * Resolves webhook hosts over DNS-over-HTTPS (A and AAAA), for runtimes whose `fetch` cannot be
 * given a resolver (Workers). Fails closed: an error, a timeout, a non-zero DNS status or a name
 * with no address throws, so an unresolvable name is never judged public.
 */
export function dohResolver(endpoint: string, timeoutMs = 3_000): Resolve {
  const query = async (host: string, type: number) => {
    const url = new URL(endpoint);
    url.searchParams.set("name", host);
    url.searchParams.set("type", String(type));
    const res = await fetch(url, { headers: { accept: "application/dns-json" }, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`DNS-over-HTTPS answered HTTP ${res.status}`);
    const body = Answer.parse(await res.json());
    // 3 is NXDOMAIN: no addresses of any type. Anything else but NOERROR is a failure to resolve.
    if (body.Status !== 0 && body.Status !== 3) throw new Error(`DNS status ${body.Status} for ${host}`);
    // CNAME records come with the addresses they lead to; keep only the addresses.
    return (body.Answer ?? []).filter((a) => a.type === type).map((a) => a.data);
  };
  return async (host) => {
    const [v4, v6] = await Promise.all([query(host, A), query(host, AAAA)]);
    const all = [...v4, ...v6];
    if (all.length === 0) throw new Error(`${host} has no address`);
    return all;
  };
}
