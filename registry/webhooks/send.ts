import { RegistryError } from "../http/errors.ts";
import { checkWebhookUrl, type Resolve } from "./url.ts";

/** One signed POST to a job's receiver. */
export interface WebhookPost {
  url: URL;
  headers: Record<string, string>;
  body: string;
  /** Deliver to loopback/private addresses too (tests, on-premise installs). */
  allowPrivate: boolean;
  /** Until the TCP connection is up (name resolution included): a dead host costs this, not `timeoutMs`. */
  connectTimeoutMs: number;
  /** Until the receiver's status line arrives. */
  timeoutMs: number;
  signal: AbortSignal;
}

/** Sends one POST and returns the receiver's status; throws `WebhookRefusedError` for a target that is not public. */
export type WebhookSender = (post: WebhookPost) => Promise<{ status: number }>;

/**
 * The target resolved to (or is) an address webhooks may not reach; nothing was sent. Internal: the
 * delivery pass records it in the delivery log in fixed words (no address, no resolver detail),
 * so it is a plain Error, never a RegistryError a client would be shown as is.
 */
export class WebhookRefusedError extends Error {
  override name = "WebhookRefusedError";
}

/**
 * The portable sender (Workers, or any runtime without node:http): checks the URL, then `fetch`es
 * it. It cannot pin the address it checked, so a name that re-resolves in between is not caught
 * here; node.ts uses `nodeWebhookSender`, which connects to the checked address only.
 */
export function fetchWebhookSender(resolve: Resolve | null): WebhookSender {
  return async (post) => {
    // Resolution counts against the timeout too, so no attempt outlasts it (the log's timing relies on that).
    const signal = AbortSignal.any([post.signal, AbortSignal.timeout(post.timeoutMs)]);
    // A resolver that fails is an outage (retried), not a refusal: keep its error apart from the check's.
    let failed: { error: unknown } | null = null;
    const lookup: Resolve | null =
      resolve &&
      ((host) =>
        Promise.race([resolve(host), new Promise<never>((_, no) => signal.addEventListener("abort", () => no(signal.reason), { once: true }))]).catch(
          (error: unknown) => {
            failed = { error };
            throw error;
          },
        ));
    await checkWebhookUrl(post.url.href, post.allowPrivate, lookup).catch((e: unknown) => {
      if (failed) throw failed.error;
      throw e instanceof RegistryError ? new WebhookRefusedError(e.message) : e;
    });
    const res = await fetch(post.url, {
      method: "POST",
      headers: post.headers,
      body: post.body,
      redirect: "manual",
      signal,
    });
    await res.body?.cancel().catch(() => {});
    return { status: res.status };
  };
}
