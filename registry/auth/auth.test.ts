import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestRegistry, TARGET, type TestRegistry } from "../../test/helpers/registry.ts";

describe("API keys, scopes and rate limits", () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry({ anonymousRateLimitPerMinute: 1_000_000 });
  });
  after(() => r.stop());

  const write = (token?: string) =>
    r.call("POST", "/v1/loras", { ...(token ? { token } : {}), json: { name: "k-test", title: "t", category: "camera-motion" } });

  it("needs a key to write (401 unauthenticated)", async () => {
    const res = await write();
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, "unauthenticated");
  });

  it("rejects malformed and unknown keys (401 invalid_api_key)", async () => {
    for (const token of ["nope", "mlk_doesnotexist"]) {
      const res = await write(token);
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, "invalid_api_key");
    }
    const res = await r.call("GET", "/v1/loras", { headers: { authorization: "Basic abc" } });
    assert.equal(res.status, 401);
  });

  it("creates keys through the admin API, shows the token once, stores only its hash", async () => {
    const created = await r.call("POST", "/v1/keys", { token: r.admin, json: { owner: "dora", scopes: ["read", "write"] } });
    assert.equal(created.status, 201);
    assert.match(created.body.token, /^mlk_[0-9a-z]{32}$/);
    assert.ok(created.body.token.startsWith(created.body.prefix));
    const listed = await r.call("GET", "/v1/keys", { token: created.body.token });
    assert.equal(listed.body.data.length, 1);
    assert.equal(listed.body.data[0].token, undefined);
    const { apiKeys } = await import("../db/schema.ts");
    const rows = await r.services.db.select().from(apiKeys);
    assert.ok(rows.every((row) => !JSON.stringify(row).includes(created.body.token)));
    const me = await r.call("GET", "/v1/me", { token: created.body.token });
    assert.equal(me.body.owner, "dora");
  });

  it("needs the admin scope to create keys (403)", async () => {
    const user = await r.key("erin");
    const res = await r.call("POST", "/v1/keys", { token: user, json: { owner: "erin", scopes: ["admin"] } });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, "insufficient_scope");
  });

  it("refuses a revoked key and keeps its data", async () => {
    const created = await r.call("POST", "/v1/keys", { token: r.admin, json: { owner: "finn" } });
    const token = created.body.token;
    assert.equal((await write(token)).status, 201);
    const revoked = await r.call("DELETE", `/v1/keys/${created.body.id}`, { token });
    assert.equal(revoked.status, 200);
    assert.ok(revoked.body.revoked_at);
    const res = await write(token);
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, "api_key_revoked");
    assert.equal((await r.call("GET", "/v1/loras/finn/k-test")).status, 200);
  });

  it("rate-limits per key with 429 and Retry-After", async () => {
    const token = await r.key("gus", ["read"], 5);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await r.call("GET", "/v1/loras", { token })).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    const res = await r.call("GET", "/v1/loras", { token });
    assert.equal(res.body.error.code, "rate_limited");
    assert.ok(Number(res.headers.get("retry-after")) >= 1);
    // Another key is unaffected.
    assert.equal((await r.call("GET", "/v1/loras", { token: await r.key("hana", ["read"], 5) })).status, 200);
  });

  it("logs one structured line per request with id, route, status and duration", async () => {
    const res = await r.call("GET", "/v1/loras/nobody/nothing", { headers: { "x-request-id": "trace-123" } });
    assert.equal(res.headers.get("x-request-id"), "trace-123");
    assert.equal(res.body.error.requestId, "trace-123");
    const line = r.logs.find((l) => l.requestId === "trace-123");
    assert.equal(line?.route, "/v1/loras/:owner/:name");
    assert.equal(line?.status, 404);
    assert.equal(typeof line?.ms, "number");
  });

  it("lets a read key revoke only itself, and never a key with a scope beyond the caller's", async () => {
    const mint = async (scopes: string[]) =>
      (await r.call("POST", "/v1/keys", { token: r.admin, json: { owner: "ivy", scopes } })).body as { id: string; token: string };
    const admin = await mint(["admin"]);
    const runnerKey = await mint(["runner"]);
    const reader = await mint(["read"]);
    const writer = await mint(["read", "write"]);
    const other = await mint(["read"]);

    const byReader = await r.call("DELETE", `/v1/keys/${admin.id}`, { token: reader.token });
    assert.equal(byReader.status, 403);
    assert.equal(byReader.body.error.code, "insufficient_scope");
    assert.equal((await r.call("DELETE", `/v1/keys/${other.id}`, { token: reader.token })).status, 403, "not even another read key");
    for (const target of [admin, runnerKey]) {
      const byWriter = await r.call("DELETE", `/v1/keys/${target.id}`, { token: writer.token });
      assert.equal(byWriter.status, 403, JSON.stringify(byWriter.body));
      assert.equal(byWriter.body.error.code, "forbidden");
    }
    assert.equal((await r.call("GET", "/v1/me", { token: admin.token })).status, 200, "the admin key still works");
    assert.equal((await r.call("DELETE", `/v1/keys/${other.id}`, { token: writer.token })).status, 200, "a write key may revoke a lesser key of its owner");
    assert.equal((await r.call("DELETE", `/v1/keys/${reader.id}`, { token: reader.token })).status, 200, "any key may revoke itself");
    assert.equal((await r.call("DELETE", `/v1/keys/${runnerKey.id}`, { token: admin.token })).status, 200, "admins revoke anything");
  });
});

describe("failed authentication", () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry({ failedAuthPerMinute: 5, failedAuthPerAddressPerMinute: 12, anonymousRateLimitPerMinute: 1_000_000 });
  });
  after(() => r.stop());

  it("costs its sender: a flood of bad keys from one address gets 429, while valid keys from that address are never refused", async () => {
    const user = await r.key("jo", ["read"]);
    const runner = await r.key("local-runner", ["runner"]);
    const valid: number[] = [];
    const alsoValid = async () =>
      valid.push((await r.call("GET", "/v1/me", { token: user })).status, (await r.call("GET", "/v1/me", { token: runner })).status);
    // One bad key retried: 5 a minute for its prefix from this address. A forged X-Forwarded-For or
    // CF-Connecting-IP does not make it another client (neither is trusted unless configured).
    const retried: number[] = [];
    for (let i = 0; i < 8; i++) {
      const forged = { "x-forwarded-for": `203.0.113.${i}`, "cf-connecting-ip": `198.51.100.${i}` };
      retried.push((await r.call("GET", "/v1/me", { token: "mlk_stale0000000000000000000000000000", headers: forged })).status);
      await alsoValid();
    }
    assert.deepEqual(retried, [401, 401, 401, 401, 401, 429, 429, 429]);
    // Keys that rotate: 12 a minute from the address in all, 8 of them spent above.
    const rotated: number[] = [];
    for (let i = 0; i < 10 && rotated.at(-1) !== 429; i++) {
      rotated.push((await r.call("GET", "/v1/me", { token: `mlk_guess${i}${"0".repeat(27)}` })).status);
      await alsoValid();
    }
    assert.equal(rotated.at(-1), 429, `rotating keys are limited too: ${rotated.join(",")}`);
    assert.ok(rotated.length <= 6, `after the address's allowance: ${rotated.join(",")}`);
    const blocked = await r.call("GET", "/v1/me", { token: "mlk_other0000000000000000000000000000" });
    assert.equal(blocked.body.error.code, "rate_limited");
    assert.ok(Number(blocked.headers.get("retry-after")) >= 1);
    assert.equal(valid.length, 2 * (retried.length + rotated.length));
    assert.deepEqual(
      valid.filter((status) => status !== 200),
      [],
      "every request with a valid key was served",
    );
    assert.equal((await r.call("GET", "/v1/loras")).status, 200, "anonymous requests are not blocked");
  });
});

describe("the client's address", () => {
  let r: TestRegistry;
  // Node believes X-Forwarded-For from a configured proxy (the test's own 127.0.0.1); a Worker on
  // Cloudflare believes CF-Connecting-IP, which the edge sets: configured here as it is deployed.
  const header = TARGET === "node" ? "x-forwarded-for" : "cf-connecting-ip";
  before(async () => {
    r = await startTestRegistry({
      anonymousRateLimitPerMinute: 2,
      ...(TARGET === "node" ? { trustedProxies: ["127.0.0.0/8"] } : { trustCfConnectingIp: true }),
    });
  });
  after(() => r.stop());

  it("comes from the trusted source when configured: each forwarded client has its own bucket", async () => {
    const get = (ip: string) => r.call("GET", "/v1/loras", { headers: { [header]: ip } });
    assert.deepEqual([(await get("203.0.113.7")).status, (await get("203.0.113.7")).status, (await get("203.0.113.7")).status], [200, 200, 429]);
    assert.equal((await get("203.0.113.8")).status, 200, "another client behind the same proxy is not limited by the first");
  });
});
