import { RegistryError } from "../http/errors.ts";

// Plain parsing rather than node:net, so the registry core also runs on Workers.

export type Resolve = (host: string) => Promise<string[]>;

/** Dotted-quad IPv4 as a 32-bit number, or null. (URL parsing already turned 0x7f.1 and 2130706433 into dotted quads.) */
function parseIPv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return null;
  return octets.reduce((a, o) => a * 256 + o, 0);
}

/** IPv6 text (any RFC 4291 form: `::`, embedded dotted quad, hex groups) as 16 bytes, or null. */
export function parseIPv6(s: string): Uint8Array | null {
  let text = s.toLowerCase();
  if (text.includes("%")) return null; // zone ids name an interface: link-local by definition
  const bytes = new Uint8Array(16);
  let tail4: number | null = null;
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    tail4 = parseIPv4(text.slice(lastColon + 1));
    if (tail4 === null) return null;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - head.length - rest.length;
  if ((halves.length === 1 && fill !== 0) || (halves.length === 2 && fill < 1)) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill("0"), ...rest];
  for (const [i, g] of all.entries()) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    const v = parseInt(g, 16);
    bytes[i * 2] = v >> 8;
    bytes[i * 2 + 1] = v & 0xff;
  }
  if (tail4 !== null) for (let i = 0; i < 4; i++) bytes[12 + i] = (tail4 >>> (24 - 8 * i)) & 0xff;
  return bytes;
}

const V4_NOT_PUBLIC: [number, number][] = [
  [0x00000000, 8], // "this" network
  [0x0a000000, 8], // private
  [0x64400000, 10], // CGNAT
  [0x7f000000, 8], // loopback
  [0xa9fe0000, 16], // link-local (cloud metadata)
  [0xac100000, 12], // private
  [0xc0000000, 24], // IETF protocol assignments
  [0xc0000200, 24], // TEST-NET-1
  [0xc0586300, 24], // 6to4 relay anycast
  [0xc0a80000, 16], // private
  [0xc6120000, 15], // benchmarking
  [0xc6336400, 24], // TEST-NET-2
  [0xcb007100, 24], // TEST-NET-3
  [0xe0000000, 3], // multicast, reserved, broadcast
];

const v4NotPublic = (n: number) => V4_NOT_PUBLIC.some(([net, bits]) => n >>> (32 - bits) === net >>> (32 - bits));
const v4At = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const zero = (b: Uint8Array, from: number, to: number) => b.subarray(from, to).every((x) => x === 0);

/**
 * True unless `ip` is a public unicast address. IPv6 is judged after normalisation: IPv4-mapped
 * (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses by the IPv4 address they
 * carry; everything outside global unicast 2000::/3 (loopback, ::a.b.c.d, ULA, link- and
 * site-local, multicast), Teredo and other IETF assignments (2001::/23) and documentation ranges
 * are refused. Anything that does not parse as an address is refused too.
 */
export function isPrivateAddress(ip: string): boolean {
  const v4 = parseIPv4(ip);
  if (v4 !== null) return v4NotPublic(v4);
  const b = parseIPv6(ip.replace(/^\[|\]$/g, ""));
  if (b === null) return true;
  if (zero(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return v4NotPublic(v4At(b, 12)); // ::ffff:a.b.c.d
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(b, 4, 12)) return v4NotPublic(v4At(b, 12)); // NAT64
  if (b[0] === 0x20 && b[1] === 0x02) return v4NotPublic(v4At(b, 2)); // 6to4
  if ((b[0]! & 0xe0) !== 0x20) return true; // not global unicast: ::/96, ::1, fc00::/7, fe80::/10, fec0::/10, ff00::/8, 64:ff9b:1::/48 …
  if (b[0] === 0x20 && b[1] === 0x01 && b[2]! < 0x02) return true; // 2001::/23: Teredo, benchmarking, ORCHID
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return true; // 2001:db8::/32 documentation
  if (b[0] === 0x3f && b[1] === 0xff && b[2]! < 0x10) return true; // 3fff::/20 documentation
  return false;
}

/** The host of a URL as an address literal (brackets dropped), or null when it is a name. */
export function literalAddress(hostname: string): string | null {
  const host = hostname.replace(/^\[|\]$/g, "");
  return parseIPv4(host) !== null || parseIPv6(host) !== null ? host : null;
}

/** Names that are local by definition, whatever a resolver says (a trailing dot changes nothing). */
export function isLocalName(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  return host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal");
}

/**
 * Refuses webhook URLs that reach the registry's own network (SSRF), by the literal host and by
 * every address it resolves to, unless private targets are allowed (tests, on-premise installs).
 * This check gives a clear 422 at job creation; delivery checks again on the addresses it connects
 * to (a name may resolve elsewhere by then).
 */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean, resolve: Resolve | null): Promise<URL> {
  const url = new URL(raw);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new RegistryError("validation_failed", "webhook: must be an http(s) URL");
  if (url.username || url.password)
    throw new RegistryError("validation_failed", "webhook: credentials in the URL are not allowed; verify the signature instead");
  if (allowPrivate) return url;
  const literal = literalAddress(url.hostname);
  if (literal === null && isLocalName(url.hostname)) {
    throw new RegistryError("validation_failed", `webhook: ${url.hostname} is a local name; webhooks go to public hosts only`);
  }
  const addresses =
    literal !== null
      ? [literal]
      : resolve
        ? await resolve(url.hostname).catch(() => {
            throw new RegistryError("validation_failed", `webhook: cannot resolve ${url.hostname}`);
          })
        : [];
  const bad = addresses.find(isPrivateAddress);
  if (bad)
    throw new RegistryError(
      "validation_failed",
      `webhook: ${url.hostname} resolves to ${bad}, a loopback or private address; webhooks go to public hosts only`,
    );
  return url;
}
