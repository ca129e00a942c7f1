import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { onlyOn, startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";

describe("event streams per key", () => {
  let r: TestRegistry;
  let alice: string;
  let bob: string;
  before(async () => {
    r = await startTestRegistry({ maxStreamsPerKey: 2 });
    alice = await r.key("alice");
    bob = await r.key("bob");
  });
  after(() => r.stop());

  const job = async (token: string) =>
    (await r.call("POST", "/v1/jobs", { token, json: { kind: "generate", input: { prompt: "a red circle on a black background" } } })).body.id as string;
  /** Opens a job's stream and reads its first event, so the registry holds it open. */
  const open = async (token: string, id: string) => {
    const ctl = new AbortController();
    const res = await fetch(`${r.url}/v1/jobs/${id}/events`, { headers: { authorization: `Bearer ${token}` }, signal: ctl.signal });
    if (res.status === 200) {
      const reader = res.body!.getReader();
      let got = "";
      while (!got.includes("event: status")) got += new TextDecoder().decode((await reader.read()).value);
      reader.releaseLock();
    }
    return { res, id, ended: res.status === 200 ? res.body!.pipeTo(new WritableStream()).catch(() => {}) : null, close: () => ctl.abort() };
  };

  it("refuses a key's stream over the cap with 429 too_many_streams and Retry-After; another key and a closed stream's place stay free", async () => {
    const a1 = await open(alice, await job(alice));
    const a2 = await open(alice, await job(alice));
    assert.equal(a1.res.status, 200);
    assert.equal(a2.res.status, 200);
    const over = await open(alice, await job(alice));
    assert.equal(over.res.status, 429);
    const body = (await over.res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "too_many_streams");
    assert.match(body.error.message, /2 event streams open/);
    assert.equal(over.res.headers.get("retry-after"), "10");
    const b = await open(bob, await job(bob));
    assert.equal(b.res.status, 200, "the cap is per key");
    // A finished job's stream ends, and frees its place at once.
    assert.equal((await r.call("POST", `/v1/jobs/${a1.id}/cancel`, { token: alice })).status, 200);
    await a1.ended;
    const again = await open(alice, await job(alice));
    assert.equal(again.res.status, 200, "an ended stream frees its place");
    for (const s of [a2, b, again]) s.close();
  });

  it("frees a place as soon as the client disconnects (Node; workerd notices at the next keep-alive write)", async (t) => {
    if (onlyOn(t, "node", "local workerd tells the Worker of a disconnect only when a write fails")) return;
    const carol = await r.key("carol");
    const streams = [await open(carol, await job(carol)), await open(carol, await job(carol))];
    const over = await open(carol, await job(carol));
    assert.equal(over.res.status, 429);
    streams[0]!.close();
    let again = await open(carol, await job(carol));
    for (let i = 0; again.res.status === 429 && i < 40; i++) {
      await new Promise((ok) => setTimeout(ok, 50));
      again = await open(carol, await job(carol));
    }
    assert.equal(again.res.status, 200, "a closed stream frees its place");
    for (const s of [streams[1]!, again]) s.close();
  });
});
