import { signPayload } from "../../sdk/webhooks/signature.ts";

export interface RunnerWebhook {
  /** A container platform's endpoint that starts a runner; it should be idempotent (one more ask while one starts is harmless). */
  url: string;
  /** Signs the POST (Standard Webhooks headers), so the platform can tell the registry asked. */
  secret?: string;
}

/** POSTs "runner.needed" (queued jobs and where to claim them); never throws, logs the outcome. */
export async function askForRunner(hook: RunnerWebhook, registryUrl: string, queued: number, log: (e: Record<string, unknown>) => void): Promise<void> {
  const body = JSON.stringify({ type: "runner.needed", queued, registry: registryUrl, at: new Date().toISOString() });
  const headers = {
    "content-type": "application/json",
    ...(hook.secret ? await signPayload(hook.secret, `runner-${Date.now()}`, body) : {}),
  };
  try {
    const res = await fetch(hook.url, { method: "POST", headers, body, signal: AbortSignal.timeout(10_000) });
    await res.body?.cancel().catch(() => {});
    log({ msg: "asked for a runner", url: hook.url, status: res.status, queued });
  } catch (e) {
    log({ level: "warn", msg: "runner webhook failed; will ask again", url: hook.url, error: String(e) });
  }
}
