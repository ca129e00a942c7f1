/**
 * Standard Webhooks signing (https://www.standardwebhooks.com; Svix's scheme): the secret is
 * `whsec_` + base64 of the key bytes; the signature is HMAC-SHA256 of `${id}.${timestamp}.${body}`
 * under those bytes, base64, sent as `webhook-signature: v1,<sig>`. Receivers recompute it and
 * refuse stale timestamps, which stops replays. Any Standard Webhooks verifier accepts these.
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A new webhook secret: `whsec_` + base64 of 24 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;
}

/**
 * The HMAC key of a secret: the base64 after `whsec_`, decoded, as the spec says. Secrets made before
 * motion-lora followed it (`whsec_` + base32 text, never valid base64) keep signing with their text,
 * so receivers that verify them with this SDK keep working.
 */
function keyBytes(secret: string): Uint8Array<ArrayBuffer> {
  const b64 = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret;
  if (b64.length > 0 && BASE64.test(b64)) return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new TextEncoder().encode(secret);
}

/** The Standard Webhooks headers for `body`, signed with `secret`. */
export async function signPayload(secret: string, id: string, body: string, timestamp = Math.floor(Date.now() / 1000)) {
  const key = await crypto.subtle.importKey("raw", keyBytes(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`,
  };
}

/** What a receiver does: checks the signature and that the timestamp is fresh (replays are refused). */
export async function verifyWebhook(
  secret: string,
  headers: { get(name: string): string | null },
  body: string,
  toleranceSeconds = 300,
  now = Math.floor(Date.now() / 1000),
): Promise<boolean> {
  const id = headers.get("webhook-id");
  const ts = Number(headers.get("webhook-timestamp"));
  const sigs = headers.get("webhook-signature");
  if (!id || !sigs || !Number.isFinite(ts) || Math.abs(now - ts) > toleranceSeconds) return false;
  const expected = (await signPayload(secret, id, body, ts))["webhook-signature"];
  return sigs.split(" ").some((s) => s.length === expected.length && timingSafe(s, expected));
}

function timingSafe(a: string, b: string) {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
