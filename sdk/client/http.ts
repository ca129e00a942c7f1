import type * as z from "zod";
import { ErrorBody } from "../schema/index.ts";
import { readSavedLogin, savedTokenFor } from "./saved-login.ts";
import { AbortedError, APIConnectionError, APIError, APITimeoutError, errorForStatus, IntegrityError, MotionLoraError } from "./errors.ts";

export interface ClientOptions {
  /** The registry's origin. Default: MOTION_LORA_REGISTRY from the environment, else the registry `motion-lora login` saved, else http://127.0.0.1:8787. */
  baseUrl?: string;
  /**
   * Default: MOTION_LORA_TOKEN from the environment, else (in Node) the token `motion-lora login`
   * saved for this same registry; none: anonymous, read-only.
   */
  apiKey?: string;
  /** Per attempt, until the response (or for JSON, its whole body) arrives. Default 60 s. */
  timeoutMs?: number;
  /** Retries after the first attempt on connection errors, 408, 409 with Retry-After, 429 and 5xx. Default 2. */
  maxRetries?: number;
  /** A fetch implementation (tests, proxies, Workers service bindings). Default: the global fetch. */
  fetch?: typeof fetch;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Query;
  json?: unknown;
  body?: Uint8Array | Blob;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Covers only the wait for response headers: for streams (SSE, downloads) read afterwards. */
  stream?: boolean;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;
const MAX_RETRY_AFTER_MS = 60_000;

/** Retry-After as milliseconds, from seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Exponential backoff with jitter (75–100% of the step), or the server's Retry-After when it names one. */
export function retryDelay(attempt: number, retryAfterMs: number | null, random = Math.random): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
  return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt) * (0.75 + 0.25 * random());
}

/** What an aborted `signal` makes the SDK throw: AbortedError for the platform's own reason (an AbortError or TimeoutError DOMException), else the caller's reason. */
export function abortError(signal: AbortSignal): unknown {
  const r: unknown = signal.reason;
  const platform = r instanceof Error && (r.name === "AbortError" || r.name === "TimeoutError") && !(r instanceof MotionLoraError);
  return platform ? new AbortedError(r) : r;
}

/** AbortSignal.throwIfAborted, throwing what the SDK throws for an abort (abortError). */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** HTTP to the registry: auth, timeouts, retries with backoff, typed errors, validated JSON. */
/** A variable from process.env where there is one (Node, Deno, Bun, Workers with nodejs_compat); browsers have none. */
function env(name: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  return value === "" ? undefined : value;
}

export class Http {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: ClientOptions = {}) {
    // What `motion-lora login` saved fills what neither an option nor the environment gives.
    const given = (opts.baseUrl ?? env("MOTION_LORA_REGISTRY")) !== undefined && (opts.apiKey ?? env("MOTION_LORA_TOKEN")) !== undefined;
    const saved = given ? null : readSavedLogin();
    const baseUrl = opts.baseUrl ?? env("MOTION_LORA_REGISTRY") ?? saved?.registry ?? "http://127.0.0.1:8787";
    if (!/^https?:\/\//.test(baseUrl)) throw new MotionLoraError(`baseUrl must start with http:// or https://, got '${baseUrl}'`, "invalid_option");
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.apiKey = opts.apiKey ?? env("MOTION_LORA_TOKEN") ?? savedTokenFor(this.baseUrl, saved);
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.maxRetries = opts.maxRetries ?? 2;
    this.fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  url(path: string, query?: Query): string {
    const u = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  /** A request whose JSON answer is checked against `schema`. */
  async json<T extends z.ZodType>(spec: RequestSpec, schema: T): Promise<z.output<T>> {
    const { body } = await this.send(spec, async (res) => ({ body: (await res.json().catch(() => undefined)) as unknown }));
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new IntegrityError(
        `${spec.method} ${spec.path}: the registry's answer does not match the SDK's schema at '${issue?.path.join(".")}': ${issue?.message} (are the SDK and registry versions compatible?)`,
      );
    }
    return parsed.data;
  }

  /** A request whose successful response is handed back unread (SSE, downloads, 204s). */
  response(spec: RequestSpec): Promise<Response> {
    return this.send({ ...spec, stream: true }, async (res) => res);
  }

  private async send<R>(spec: RequestSpec, read: (res: Response) => Promise<R>): Promise<R> {
    const headers: Record<string, string> = { accept: "application/json", ...spec.headers };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    let body: BodyInit | undefined;
    if (spec.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(spec.json);
    } else if (spec.body !== undefined) {
      headers["content-type"] ??= "application/octet-stream";
      body = spec.body as BodyInit;
    }
    const url = this.url(spec.path, spec.query);
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(spec.signal);
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new APITimeoutError(this.timeoutMs)), this.timeoutMs);
      const signal = spec.signal ? AbortSignal.any([spec.signal, timeout.signal]) : timeout.signal;
      let failure: MotionLoraError;
      let retryAfter: number | null = null;
      try {
        const res = await this.fetchImpl(url, { method: spec.method, headers, body: body ?? null, signal });
        if (res.ok || res.status === 304) {
          if (spec.stream) clearTimeout(timer);
          return await read(res);
        }
        retryAfter = parseRetryAfter(res.headers.get("retry-after"));
        failure = await toApiError(res, retryAfter);
        const retryable = RETRY_STATUS.has(res.status) || (res.status === 409 && retryAfter !== null);
        if (!retryable) throw failure;
      } catch (e) {
        if (e instanceof APIError || e instanceof IntegrityError) throw e;
        throwIfAborted(spec.signal);
        failure = timeout.signal.aborted
          ? new APITimeoutError(this.timeoutMs)
          : new APIConnectionError(`cannot reach the registry at ${this.baseUrl}: ${(e as Error).message}; is it running?`, e);
      } finally {
        clearTimeout(timer);
      }
      if (attempt >= this.maxRetries) throw failure;
      await sleep(retryDelay(attempt, retryAfter), spec.signal);
    }
  }
}

async function toApiError(res: Response, retryAfterMs: number | null): Promise<APIError> {
  const text = await res.text().catch(() => "");
  const requestId = res.headers.get("x-request-id");
  let parsed: ReturnType<typeof ErrorBody.safeParse> | null = null;
  try {
    parsed = ErrorBody.safeParse(JSON.parse(text));
  } catch {
    // Not JSON: a proxy or a crashed server; keep the start of the text as the message.
  }
  if (parsed?.success) {
    const e = parsed.data.error;
    return errorForStatus(res.status, e.code, e.message, e.requestId ?? requestId, e.details, retryAfterMs);
  }
  return errorForStatus(
    res.status,
    res.status >= 500 ? "internal_error" : "http_error",
    text.slice(0, 200) || res.statusText || "no body",
    requestId,
    undefined,
    retryAfterMs,
  );
}
