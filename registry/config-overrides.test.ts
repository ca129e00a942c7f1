import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, parseOverrides } from "./config-overrides.ts";
import { WORKER_DEFAULTS, workerConfig } from "./worker.ts";

describe("a deployment's config overrides (MOTION_LORA_CONFIG)", () => {
  it("names each wrong field: a typo, a wrong type, a value out of range, JSON that does not parse", () => {
    const refused: [string, RegExp][] = [
      ['{"webhook": {"concurrency": 6}}', /Unrecognized key.*"webhook"/],
      ['{"readCacheTtlMs": "1s"}', /readCacheTtlMs: .*number/],
      ['{"rateLimitLeaseShare": 2}', /rateLimitLeaseShare: .*(1|less)/],
      ['{"webhooks": {"subrequestsPerDrain": 0}}', /webhooks\.subrequestsPerDrain: .*(0|greater)/],
      ['{"blobLimits": {"lora": 1.5}}', /blobLimits\.lora: .*expected int/],
      ['{"baseModel": {}}', /Unrecognized key.*"baseModel"/],
      ['{"trustedProxies": ["10.0.0.0/8", "proxy.internal"]}', /trustedProxies\.1: expected an IP address or a CIDR/],
      ["[1]", /\(the whole value\): .*object/],
      ["{readCacheTtlMs: 0}", /MOTION_LORA_CONFIG is not JSON/],
    ];
    for (const [json, why] of refused) {
      assert.throws(
        () => parseOverrides(json, "MOTION_LORA_CONFIG"),
        (e: unknown) => e instanceof ConfigError && e.code === "invalid_config" && why.test(e.message),
        json,
      );
    }
  });

  it("refuses a top-level setting put inside webhooks, where it would be ignored", () => {
    for (const k of ["maxStreamsPerKey", "maxQueuedJobsPerOwner", "maxRunningJobsPerOwner", "streamPollMs"])
      assert.throws(
        () => parseOverrides(JSON.stringify({ webhooks: { [k]: 1 } }), "MOTION_LORA_CONFIG"),
        (e: unknown) => e instanceof ConfigError && e.message.includes(k),
        k,
      );
  });

  it("merges blob limits and webhook settings field by field over the Worker's defaults", () => {
    assert.deepEqual(parseOverrides(undefined, "X"), {});
    const c = workerConfig(
      parseOverrides('{"webhooks": {"subrequestsPerDrain": 900}, "blobLimits": {"preview": 1024}, "corsOrigins": ["https://app.example"]}', "X"),
      null,
    );
    assert.deepEqual(c.webhooks, { ...WORKER_DEFAULTS.webhooks, subrequestsPerDrain: 900 });
    assert.deepEqual(c.blobLimits, { ...WORKER_DEFAULTS.blobLimits, preview: 1024 });
    assert.deepEqual(c.corsOrigins, ["https://app.example"]);
  });

  it("trusts CF-Connecting-IP on Workers by default and refuses trustedProxies there (a Worker has no socket to check)", () => {
    assert.equal(workerConfig({}, null).trustCfConnectingIp, true);
    assert.equal(workerConfig({ trustCfConnectingIp: false }, null).trustCfConnectingIp, false);
    assert.throws(() => workerConfig({ trustedProxies: ["10.0.0.1"] }, null), /trustedProxies: a Worker has no socket/);
  });
});
