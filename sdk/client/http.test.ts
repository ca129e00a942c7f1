import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import * as z from "zod";
import { Job } from "../schema/index.ts";
import { AbortedError, APIConnectionError, APITimeoutError, ConflictError, InternalServerError, RateLimitError, UnprocessableEntityError } from "./errors.ts";
import { Http, parseRetryAfter, retryDelay } from "./http.ts";
import { Jobs } from "./jobs.ts";
import { readSse } from "./sse.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A scripted HTTP server on loopback: each test sets what the next requests get. */
let handler: Handler = (_q, res) => res.end();
let seen: IncomingMessage[] = [];
const server = createServer((req, res) => {
  seen.push(req);
  handler(req, res, seen.length);
});
let base = "";
before(async () => {
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((ok) => server.close(() => ok())));

const error = (res: ServerResponse, status: number, code: string, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", "x-request-id": "req_test", ...headers });
  res.end(JSON.stringify({ error: { code, message: `${code} happened`, requestId: "req_test" } }));
};
const script = (h: Handler) => {
  seen = [];
  handler = h;
};

describe("SDK HTTP: retries, timeouts and typed errors", () => {
  it("takes the registry and token from the environment when not passed, and passed options win", async () => {
    const saved = { registry: process.env.MOTION_LORA_REGISTRY, token: process.env.MOTION_LORA_TOKEN };
    script((_q, res) => res.end("{}"));
    try {
      process.env.MOTION_LORA_REGISTRY = base;
      process.env.MOTION_LORA_TOKEN = "mlk_fromenv";
      await new Http().json({ method: "GET", path: "/v1/me" }, z.object({}));
      assert.equal(seen[0]!.headers.authorization, "Bearer mlk_fromenv");
      await new Http({ baseUrl: base, apiKey: "mlk_passed" }).json({ method: "GET", path: "/v1/me" }, z.object({}));
      assert.equal(seen[1]!.headers.authorization, "Bearer mlk_passed");
      process.env.MOTION_LORA_REGISTRY = "ftp://nope";
      assert.throws(() => new Http(), /baseUrl must start with http/);
    } finally {
      for (const [k, v] of [
        ["MOTION_LORA_REGISTRY", saved.registry],
        ["MOTION_LORA_TOKEN", saved.token],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it("retries 5xx with backoff and returns the eventual answer", async () => {
    script((_q, res, n) => (n < 3 ? error(res, 503, "internal_error") : res.end(JSON.stringify({ ok: true }))));
    const http = new Http({ baseUrl: base, maxRetries: 2 });
    assert.deepEqual(await http.json({ method: "GET", path: "/x" }, z.object({ ok: z.boolean() })), { ok: true });
    assert.equal(seen.length, 3);
  });

  it("honours Retry-After on 429 and on a 409 that asks for a retry", async () => {
    script((_q, res, n) =>
      n === 1 ? error(res, 429, "rate_limited", { "retry-after": "0.3" }) : n === 2 ? error(res, 409, "conflict", { "retry-after": "0.1" }) : res.end("{}"),
    );
    const t0 = Date.now();
    await new Http({ baseUrl: base, maxRetries: 3 }).json({ method: "GET", path: "/x" }, z.object({}));
    assert.equal(seen.length, 3);
    assert.ok(Date.now() - t0 >= 380, `waited ${Date.now() - t0} ms`);
    script((_q, res) => error(res, 429, "rate_limited", { "retry-after": "7" }));
    await assert.rejects(
      new Http({ baseUrl: base, maxRetries: 0 }).json({ method: "GET", path: "/x" }, z.object({})),
      (e: unknown) => e instanceof RateLimitError && e.retryAfterMs === 7000,
    );
  });

  it("does not retry a client error, and types it with status, code and request id", async () => {
    script((_q, res) => error(res, 422, "validation_failed"));
    await assert.rejects(new Http({ baseUrl: base, maxRetries: 3 }).json({ method: "GET", path: "/x" }, z.object({})), (e: unknown) => {
      assert.ok(e instanceof UnprocessableEntityError);
      assert.equal(e.status, 422);
      assert.equal(e.code, "validation_failed");
      assert.equal(e.requestId, "req_test");
      return true;
    });
    assert.equal(seen.length, 1);
    script((_q, res) => error(res, 409, "slug_taken"));
    await assert.rejects(new Http({ baseUrl: base }).json({ method: "GET", path: "/x" }, z.object({})), ConflictError);
    assert.equal(seen.length, 1, "a 409 without Retry-After is final");
  });

  it("gives up after maxRetries with the last error", async () => {
    script((_q, res) => error(res, 500, "internal_error"));
    await assert.rejects(new Http({ baseUrl: base, maxRetries: 1 }).json({ method: "GET", path: "/x" }, z.object({})), InternalServerError);
    assert.equal(seen.length, 2);
  });

  it("times out a silent server, and reports an unreachable one as a connection error", async () => {
    script(() => {}); // never answers
    await assert.rejects(new Http({ baseUrl: base, timeoutMs: 100, maxRetries: 1 }).json({ method: "GET", path: "/x" }, z.object({})), APITimeoutError);
    assert.equal(seen.length, 2);
    for (const r of seen) r.socket.destroy();
    await assert.rejects(
      new Http({ baseUrl: "http://127.0.0.1:9", maxRetries: 0 }).json({ method: "GET", path: "/x" }, z.object({})),
      (e: unknown) => e instanceof APIConnectionError && /127\.0\.0\.1:9/.test(e.message),
    );
  });

  it("sends one idempotency key for every retry of a job creation", async () => {
    const job = {
      id: "job_1",
      kind: "generate",
      status: "queued",
      owner: "a",
      input: {},
      resolved_loras: [],
      result: null,
      error: null,
      progress: 0,
      stage: null,
      attempts: 0,
      max_attempts: 3,
      version_id: null,
      webhook: null,
      webhook_events_filter: [],
      created_at: "",
      started_at: null,
      finished_at: null,
      updated_at: "",
    };
    script((req, res, n) => (n === 1 ? req.socket.destroy() : res.end(JSON.stringify(job))));
    const created = await new Jobs(new Http({ baseUrl: base, maxRetries: 2 })).create({
      kind: "generate",
      input: { prompt: "a red circle on a black background" },
    });
    assert.deepEqual(created, Job.parse(job));
    assert.equal(seen.length, 2);
    const keys = seen.map((r) => r.headers["idempotency-key"]);
    assert.ok(keys[0] && keys[0] === keys[1], `keys ${keys}`);
  });

  it("an abort without a reason of the caller's is AbortedError (code 'aborted'), after the followed job is canceled; the caller's own reason is thrown as it is", async () => {
    const cancels: string[] = [];
    script((req, res) => {
      if (req.url?.endsWith("/events")) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(": waiting\n\n"); // and never more: the job runs until the abort
      } else if (req.method === "POST" && req.url?.endsWith("/cancel")) {
        cancels.push(req.url);
        res.end("{}");
      }
    });
    const http = new Http({ baseUrl: base, maxRetries: 0 });
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 50);
    await assert.rejects(
      new Jobs(http).wait("job_1", { signal: stop.signal }),
      (e: unknown) => e instanceof AbortedError && e.code === "aborted" && (e.cause as Error).name === "AbortError",
    );
    assert.deepEqual(cancels, ["/v1/jobs/job_1/cancel"], "canceled on the registry before it rejected");
    for (const r of seen) r.socket.destroy();
    script(() => {}); // never answers
    await assert.rejects(http.json({ method: "GET", path: "/x", signal: AbortSignal.timeout(50) }, z.object({})), AbortedError);
    await assert.rejects(http.json({ method: "GET", path: "/x", signal: AbortSignal.abort() }, z.object({})), AbortedError);
    const mine = new Error("user gave up");
    await assert.rejects(http.json({ method: "GET", path: "/x", signal: AbortSignal.abort(mine) }, z.object({})), (e: unknown) => e === mine);
    for (const r of seen) r.socket.destroy();
  });

  it("backoff grows with jitter and Retry-After reads seconds or a date", () => {
    assert.equal(parseRetryAfter("2"), 2000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6_000);
    assert.equal(parseRetryAfter("soon"), null);
    assert.equal(
      retryDelay(0, null, () => 1),
      500,
    );
    assert.equal(
      retryDelay(3, null, () => 0),
      3000,
    );
    assert.equal(
      retryDelay(10, null, () => 1),
      8000,
    );
    assert.equal(retryDelay(0, 120_000), 60_000);
  });
});

describe("SSE parsing", () => {
  it("reads events split anywhere across chunks, with CRLF, comments and multi-line data", async () => {
    const text = ': keepalive\r\nid: 1\r\nevent: status\r\ndata: {"a":1}\r\n\r\nid: 2\ndata: line one\ndata: line two\n\nretry: 5\n\n';
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 3) c.enqueue(bytes.subarray(i, i + 3));
        c.close();
      },
    });
    const got = [];
    for await (const m of readSse(body)) got.push(m);
    assert.deepEqual(got, [
      { id: "1", event: "status", data: '{"a":1}' },
      { id: "2", event: "message", data: "line one\nline two" },
    ]);
  });
});
