import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { forwardedClient, proxyMatcher } from "./client-address.ts";

describe("the Node registry's client address (X-Forwarded-For from trusted proxies only)", () => {
  const proxies = proxyMatcher(["10.0.0.0/8", "::1"]);

  it("is the socket's peer when the peer is not a trusted proxy, whatever it forwards", () => {
    assert.equal(forwardedClient("198.51.100.9", "203.0.113.1", proxies), "198.51.100.9");
    assert.equal(forwardedClient("::ffff:198.51.100.9", undefined, proxies), "198.51.100.9", "an IPv4 peer on a dual-stack socket");
    assert.equal(forwardedClient("127.0.0.1", "203.0.113.1", proxyMatcher([])), "127.0.0.1", "no proxies configured: nothing is forwarded");
  });

  it("is the rightmost untrusted address behind trusted proxies, so what the client wrote on the left is ignored", () => {
    assert.equal(forwardedClient("10.0.0.2", "203.0.113.1", proxies), "203.0.113.1");
    assert.equal(forwardedClient("10.0.0.2", "6.6.6.6, 203.0.113.1, 10.1.2.3", proxies), "203.0.113.1", "two proxy hops; a forged first entry");
    assert.equal(forwardedClient("::1", "[2001:db8::5]:4711", proxies), "2001:db8::5");
    assert.equal(forwardedClient("10.0.0.2", "203.0.113.1:5000", proxies), "203.0.113.1");
  });

  it("stops at the last trusted hop when an entry is not an address, or all are proxies", () => {
    assert.equal(forwardedClient("10.0.0.2", "203.0.113.1, garbage", proxies), "10.0.0.2");
    assert.equal(forwardedClient("10.0.0.2", "10.9.9.9", proxies), "10.9.9.9");
    assert.equal(forwardedClient("10.0.0.2", "", proxies), "10.0.0.2");
  });
});
