import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { onlyOn, startTestRegistry } from "../../test/helpers/registry.ts";
import { defaultWebhookConfig, type WebhookConfig } from "./config.ts";
import { checkWebhookUrl, isPrivateAddress } from "./url.ts";

const REFUSED = "refused: the receiver's address is not public; webhooks go to public hosts only";
const UNREACHABLE = "could not reach the receiver (no connection, or no answer in time)";

async function listen(server: Server): Promise<number> {
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return (server.address() as AddressInfo).port;
}
const close = (server: Server) => {
  server.closeAllConnections();
  return new Promise<void>((ok) => server.close(() => ok()));
};

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A registry whose webhook hosts resolve through `resolve`, with a runner key and a job-making helper. */
async function registry(webhooks: Partial<WebhookConfig>, resolve?: (host: string) => Promise<string[]>) {
  const r = await startTestRegistry({ webhooks: { ...defaultWebhookConfig, maxAttempts: 1, ...webhooks } }, resolve ? { resolveHost: resolve } : {});
  const runner = await r.key("runner", ["runner"]);
  /** Creates a generate job whose `start` webhook goes to `url`, and claims it so the webhook is due. */
  const started = async (token: string, url: string) => {
    const job = await r.call("POST", "/v1/jobs", {
      token,
      json: { kind: "generate", input: { prompt: "a red circle on a black background" }, webhook: url, webhook_events_filter: ["start"] },
    });
    assert.equal(job.status, 201, JSON.stringify(job.body));
    const claim = await r.call("POST", "/v1/runner/claim", { token: runner, json: { runner_id: "r", kinds: ["generate"] } });
    assert.equal(claim.body.job.id, job.body.id);
    return job.body.id as string;
  };
  const log = async (id: string) =>
    (await r.call("GET", `/v1/jobs/${id}/webhooks`, { token: r.admin })).body.data as {
      state: string;
      attempts: number;
      last_status: number | null;
      last_error: string | null;
    }[];
  return { r, started, log };
}

describe("webhook targets (SSRF)", () => {
  it("judges IPv6 forms by the address they carry: IPv4-mapped, NAT64, 6to4, ::a.b.c.d, site-local and Teredo loopback or private targets are refused", async () => {
    const refused = [
      "http://[::ffff:127.0.0.1]:8080/",
      "http://[::ffff:7f00:1]/",
      "http://[::ffff:169.254.169.254]/",
      "http://[64:ff9b::7f00:1]/",
      "http://[64:ff9b::a9fe:a9fe]/",
      "http://[64:ff9b:1::1]/",
      "http://[2002:7f00:1::1]/",
      "http://[2002:a00:1::]/",
      "http://[fec0::1]/",
      "http://[::127.0.0.1]/",
      "http://[::]/",
      "http://[2001:0:4136:e378::1]/",
      "http://[fd00::1]/",
      "http://[ff02::1]/",
      "http://0x7f.1/",
      "http://2130706433/",
      "http://localhost./",
    ];
    for (const url of refused) await assert.rejects(checkWebhookUrl(url, false, null), /local name|loopback or private/, url);
    for (const url of [
      "http://[2606:4700::1111]/",
      "http://[64:ff9b::808:808]/",
      "http://[::ffff:8.8.8.8]/",
      "http://[2002:808:808::1]/",
      "https://93.184.216.34/",
    ]) {
      assert.equal((await checkWebhookUrl(url, false, null)).href, new URL(url).href, url);
    }
    assert.equal(isPrivateAddress("not an address"), true);
  });

  it("never POSTs to loopback through an IPv4-mapped IPv6 URL", async () => {
    let hits = 0;
    const receiver = createServer((_, res) => {
      hits++;
      res.end();
    });
    const port = await listen(receiver);
    const { r } = await registry({});
    try {
      const res = await r.call("POST", "/v1/jobs", {
        token: await r.key("mallory"),
        json: { kind: "generate", input: { prompt: "a red circle on a black background" }, webhook: `http://[::ffff:127.0.0.1]:${port}/` },
      });
      assert.equal(res.status, 422);
      assert.match(res.body.error.message, /loopback or private/);
      assert.equal(hits, 0);
    } finally {
      await r.stop();
      await close(receiver);
    }
  });

  it("connects to the address it checked, resolving once per delivery, not to a second lookup of the name", async (t) => {
    if (onlyOn(t, "node", "the Node sender resolves once and connects to the address it checked; a Worker's fetch resolves on Cloudflare's network")) return;
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      received.push(String(req.headers.host));
      res.writeHead(204).end();
    });
    const port = await listen(receiver);
    const lookups: string[] = [];
    // hooks.example.test exists only in this resolver: a sender that resolved the name again itself would not find it.
    const { r, started, log } = await registry({ allowPrivate: true }, async (host) => {
      lookups.push(host);
      return host === "hooks.example.test" ? ["127.0.0.1"] : [];
    });
    try {
      const id = await started(await r.key("alice"), `http://hooks.example.test:${port}/hook`);
      const l = await until(
        () => log(id),
        (d) => d[0]?.state !== "pending",
      );
      assert.deepEqual(
        l.map((d) => [d.state, d.last_status]),
        [["delivered", 204]],
      );
      assert.deepEqual(received, [`hooks.example.test:${port}`], "the Host header keeps the name");
      assert.deepEqual(lookups, ["hooks.example.test"]);
    } finally {
      await r.stop();
      await close(receiver);
    }
  });

  it("resolves a webhook's name at job creation and refuses one that points at loopback (on Workers, over DNS-over-HTTPS)", async () => {
    let hits = 0;
    const receiver = createServer((_, res) => {
      hits++;
      res.end();
    });
    const port = await listen(receiver);
    const names: Record<string, string[]> = { "hooks.example.test": ["127.0.0.1"], "six.example.test": ["93.184.216.34", "::1"] };
    // Unknown names fail as the system resolver's do (ENOTFOUND).
    const { r } = await registry({}, async (host) => names[host] ?? Promise.reject(new Error(`${host}: ENOTFOUND`)));
    try {
      const mallory = await r.key("mallory");
      for (const [name, bad] of [
        ["hooks.example.test", "127.0.0.1"],
        ["six.example.test", "::1"],
      ] as const) {
        const res = await r.call("POST", "/v1/jobs", {
          token: mallory,
          json: { kind: "generate", input: { prompt: "a red circle on a black background" }, webhook: `http://${name}:${port}/` },
        });
        assert.equal(res.status, 422, JSON.stringify(res.body));
        assert.match(res.body.error.message, new RegExp(`${name} resolves to ${bad.replaceAll(".", "\\.")}, a loopback or private address`));
      }
      const none = await r.call("POST", "/v1/jobs", {
        token: mallory,
        json: { kind: "generate", input: { prompt: "a red circle on a black background" }, webhook: `http://nowhere.example.test:${port}/` },
      });
      assert.equal(none.status, 422, "a name that does not resolve is not judged public");
      assert.match(none.body.error.message, /cannot resolve nowhere\.example\.test/);
      assert.equal(hits, 0);
    } finally {
      await r.stop();
      await close(receiver);
    }
  });

  it("refuses a name that re-resolves to loopback at delivery (DNS rebinding), once, in a sentence that leaks nothing", async () => {
    let hits = 0;
    const receiver = createServer((_, res) => {
      hits++;
      res.end();
    });
    const port = await listen(receiver);
    let rebound = false;
    // Public when the job is created, loopback ever after.
    const { r, log } = await registry({ maxAttempts: 5, baseDelayMs: 10, timeoutMs: 500 }, async () => (rebound ? ["127.0.0.1"] : ["93.184.216.34"]));
    try {
      const job = await r.call("POST", "/v1/jobs", {
        token: await r.key("alice"),
        json: {
          kind: "generate",
          input: { prompt: "a red circle on a black background" },
          webhook: `http://rebind.example.test:${port}/`,
          webhook_events_filter: ["start"],
        },
      });
      assert.equal(job.status, 201, JSON.stringify(job.body));
      rebound = true;
      const claim = await r.call("POST", "/v1/runner/claim", { token: await r.key("runner", ["runner"]), json: { runner_id: "r", kinds: ["generate"] } });
      const id = claim.body.job.id as string;
      const l = await until(
        () => log(id),
        (d) => d[0]?.state === "failed",
      );
      assert.deepEqual(
        l.map((d) => [d.state, d.attempts, d.last_status, d.last_error]),
        [["failed", 1, null, REFUSED]],
        "refused at once, not retried",
      );
      assert.equal(hits, 0);
    } finally {
      await r.stop();
      await close(receiver);
    }
  });

  it("reports every network failure in one sentence, so the delivery log cannot scan ports", async () => {
    const closed = createServer();
    const port = await listen(closed);
    await close(closed);
    const { r, started, log } = await registry({ allowPrivate: true, timeoutMs: 500 });
    try {
      const id = await started(await r.key("alice"), `http://127.0.0.1:${port}/`);
      const l = await until(
        () => log(id),
        (d) => d[0]?.state === "failed",
      );
      assert.deepEqual(
        l.map((d) => [d.last_status, d.last_error]),
        [[null, UNREACHABLE]],
      );
    } finally {
      await r.stop();
    }
  });
});

describe("webhook failures and time (port scans)", () => {
  it("records a closed port and an open, silent one at the same moment, the timeout, so the log's timing cannot scan ports", async (t) => {
    const closed = createServer();
    const closedPort = await listen(closed);
    await close(closed);
    const silent = createServer(() => {}); // accepts, never answers
    const silentPort = await listen(silent);
    const timeoutMs = 1_500;
    const { r, started, log } = await registry({ allowPrivate: true, timeoutMs, connectTimeoutMs: 400 });
    try {
      const alice = await r.key("alice");
      const jobs: { id: string; t0: number }[] = [];
      // t0: the claim has answered, so the start event and its delivery are queued.
      for (const port of [closedPort, silentPort]) jobs.push({ id: await started(alice, `http://127.0.0.1:${port}/`), t0: Date.now() });
      // What the owner can see: when each attempt is recorded (by polling), and the row's own times.
      const seen = await Promise.all(
        jobs.map(async ({ id, t0 }) => {
          const l = await until(
            () => log(id),
            (d) => d[0]?.attempts === 1,
            6_000,
          );
          const d = l[0] as unknown as { state: string; last_error: string; created_at: string; updated_at: string };
          return { at: Date.now() - t0, took: Date.parse(d.updated_at) - Date.parse(d.created_at), state: d.state, error: d.last_error };
        }),
      );
      const [c, s] = seen as [(typeof seen)[0], (typeof seen)[0]];
      t.diagnostic(`recorded after queueing: closed ${c.took} ms, silent ${s.took} ms; seen failed ${c.at} / ${s.at} ms after each was queued`);
      assert.deepEqual([c.state, c.error, s.state, s.error], ["failed", UNREACHABLE, "failed", UNREACHABLE]);
      assert.ok(c.took >= timeoutMs - 50, `the closed port's attempt was recorded ${c.took} ms after it was queued (the silent one's: ${s.took} ms)`);
      assert.ok(Math.abs(c.took - s.took) < 500, `recorded ${c.took} ms vs ${s.took} ms after queueing`);
      assert.ok(Math.abs(c.at - s.at) < 500, `seen failed ${c.at} ms vs ${s.at} ms after each was queued`);
    } finally {
      await r.stop();
      await close(silent);
    }
  });
});

describe("webhook fairness", () => {
  let slow: Server;
  let fast: Server;
  let slowPort = 0;
  let fastPort = 0;
  let fastAt = 0;
  before(async () => {
    slow = createServer(() => {}); // accepts, never answers
    fast = createServer((_, res) => {
      fastAt = Date.now();
      res.writeHead(204).end();
    });
    slowPort = await listen(slow);
    fastPort = await listen(fast);
  });
  after(async () => {
    await close(slow);
    await close(fast);
  });

  it("lets one tenant's hanging receivers delay only that tenant: another's webhook goes out at once", async () => {
    const { r, started, log } = await registry({ allowPrivate: true, timeoutMs: 4_000, connectTimeoutMs: 1_000, perTenantConcurrency: 2, concurrency: 32 });
    try {
      const alice = await r.key("alice");
      for (let i = 0; i < 20; i++) await started(alice, `http://127.0.0.1:${slowPort}/hang`);
      await new Promise((ok) => setTimeout(ok, 200));
      assert.ok(r.services.webhooks.active <= 2, `${r.services.webhooks.active} of alice's deliveries in flight`);
      const t0 = Date.now();
      const id = await started(await r.key("bob"), `http://127.0.0.1:${fastPort}/`);
      const l = await until(
        () => log(id),
        (d) => d[0]?.state === "delivered",
        6_000,
      );
      assert.equal(l[0]?.state, "delivered");
      assert.ok(fastAt - t0 < 1_000, `bob's webhook went out ${fastAt - t0} ms after his job started`);
    } finally {
      await r.stop();
    }
  });

  it("gives up on a receiver that does not connect within the connect timeout, and records it at the whole timeout", async (t) => {
    if (onlyOn(t, "node", "a connect timeout apart from the whole timeout is the Node sender's; fetch has one")) return;
    // A resolver that never answers holds the connection phase open.
    const { r, started, log } = await registry({ allowPrivate: true, timeoutMs: 1_500, connectTimeoutMs: 300 }, (host) =>
      host === "blackhole.test" ? new Promise(() => {}) : Promise.resolve(["127.0.0.1"]),
    );
    try {
      const t0 = Date.now();
      const id = await started(await r.key("alice"), "http://blackhole.test/");
      const gaveUp = await until(
        async () => r.logs.find((l) => l.msg === "webhook not sent"),
        (l) => l !== undefined,
        3_000,
      );
      assert.ok(gaveUp && Date.now() - t0 < 1_200, `gave up after ${Date.now() - t0} ms`);
      const l = await until(
        () => log(id),
        (d) => d[0]?.state === "failed",
        8_000,
      );
      assert.deepEqual(
        l.map((d) => [d.state, d.last_error]),
        [["failed", UNREACHABLE]],
      );
      assert.ok(Date.now() - t0 >= 1_400, `recorded after ${Date.now() - t0} ms, before the whole timeout`);
    } finally {
      await r.stop();
    }
  });
});
