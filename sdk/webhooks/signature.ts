/**
 * Standard Webhooks signing (as Svix; Stripe's scheme is the same idea): HMAC-SHA256 over
 * `${id}.${timestamp}.${body}` with the secret, base64, sent as `webhook-signature: v1,<sig>`.
 * Receivers recompute it and reject stale timestamps, which stops replays.
 */
export async function signPayload(secret: string, id: string, body: string, timestamp = Math.floor(Date.now() / 1000)) {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
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
