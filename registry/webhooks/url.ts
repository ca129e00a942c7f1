import { ApiError } from "../http/errors.ts";

// Plain checks rather than node:net, so the registry core also runs on Workers.
const isIP = (s: string) => (/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(s) ? 4 : /^[0-9a-f:.]+$/i.test(s) && s.includes(":") ? 6 : 0);

export type Resolve = (host: string) => Promise<string[]>;

const V4_PRIVATE: [number, number][] = [
  [0x00000000, 8], [0x0a000000, 8], [0x64400000, 10], [0x7f000000, 8], [0xa9fe0000, 16],
  [0xac100000, 12], [0xc0000000, 24], [0xc0a80000, 16], [0xc6120000, 15], [0xe0000000, 3],
];

/** Loopback, private, link-local, CGNAT, multicast and reserved addresses: never a public receiver. */
export function isPrivateAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) {
    const n = ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
    return V4_PRIVATE.some(([net, bits]) => n >>> (32 - bits) === net >>> (32 - bits));
  }
  if (v === 6) {
    const x = ip.toLowerCase();
    if (x === "::1" || x === "::") return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(x);
    if (mapped) return isPrivateAddress(mapped[1]!);
    return /^(fc|fd|fe8|fe9|fea|feb|ff)/.test(x);
  }
  return true;
}

/**
 * Refuses webhook URLs that reach the registry's own network (SSRF), by the literal host and by
 * every address it resolves to, unless private targets are allowed (tests, on-premise installs).
 */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean, resolve: Resolve | null): Promise<URL> {
  const url = new URL(raw);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ApiError("validation_failed", "webhook: must be an http(s) URL");
  if (url.username || url.password) throw new ApiError("validation_failed", "webhook: credentials in the URL are not allowed; verify the signature instead");
  if (allowPrivate) return url;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) {
    throw new ApiError("validation_failed", `webhook: ${host} is a local name; webhooks go to public hosts only`);
  }
  const addresses = isIP(host) ? [host] : resolve ? await resolve(host).catch(() => { throw new ApiError("validation_failed", `webhook: cannot resolve ${host}`); }) : [];
  const bad = addresses.find(isPrivateAddress);
  if (bad) throw new ApiError("validation_failed", `webhook: ${host} resolves to ${bad}, a loopback or private address; webhooks go to public hosts only`);
  return url;
}
