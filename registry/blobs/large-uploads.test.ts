import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { encodeSafetensors } from "../../sdk/safetensors/encode.ts";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";
import { WORKER_DEFAULTS } from "../worker.ts";

const LIMIT = WORKER_DEFAULTS.blobLimits!.lora;
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** A safetensors file of exactly `size` bytes: one U8 tensor filling what the header leaves. */
function safetensorsOf(size: number, seed: number): Uint8Array {
  const encode = (n: number) => {
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i += 4096) data[i] = (i / 4096 + seed) & 0xff;
    return encodeSafetensors([{ name: "w", dtype: "U8", shape: [n], data }], {});
  };
  // The header's length depends on the digits of n: settle n in a step or two.
  let n = size - 128;
  let file = encode(n);
  while (file.byteLength !== size) {
    n += size - file.byteLength;
    file = encode(n);
  }
  return file;
}

// On Workers a request body is at most 100 MB, so the LoRA limit is 95 MiB there; the R2 store takes
// anything over 16 MiB up in 8 MiB parts. The same cases run against the Node registry at that limit.
describe("the largest LoRA upload the limits allow", () => {
  let r: TestRegistry;
  let alice = "";
  before(async () => {
    r = await startTestRegistry({ blobLimits: { ...WORKER_DEFAULTS.blobLimits! } });
    alice = await r.key("alice");
  });
  after(() => r.stop());
  const put = (bytes: Uint8Array, hash = sha(bytes)) =>
    r.call("PUT", `/v1/blobs/${hash}?kind=lora`, { token: alice, body: bytes as BodyInit, headers: { "content-type": "application/octet-stream" } });

  it("stores a LoRA file of exactly the limit and serves its last bytes by range; one byte more is 413", async () => {
    const file = safetensorsOf(LIMIT, 1);
    const res = await put(file);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.size, LIMIT);
    const tail = await r.call("GET", `/v1/blobs/${sha(file)}`, { token: alice, headers: { range: `bytes=${LIMIT - 5000}-` } });
    assert.equal(tail.status, 206);
    assert.deepEqual(tail.bytes, file.subarray(LIMIT - 5000));
    const over = await put(safetensorsOf(LIMIT + 1, 2));
    assert.equal(over.status, 413);
  });

  it("refuses a large upload whose bytes do not hash to its name, and keeps the good copy under that name", async () => {
    const good = safetensorsOf(40 * 1024 * 1024, 3);
    assert.equal((await put(good)).status, 201);
    const forged = safetensorsOf(40 * 1024 * 1024, 4);
    const res = await put(forged, sha(good));
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, "sha256_mismatch");
    const back = await r.call("GET", `/v1/blobs/${sha(good)}`, { token: alice });
    assert.equal(back.status, 200);
    assert.equal(sha(back.bytes), sha(good), "the stored bytes are the good ones");
    const fresh = safetensorsOf(30 * 1024 * 1024, 5);
    const wrong = await put(fresh, sha(safetensorsOf(30 * 1024 * 1024, 6)));
    assert.equal(wrong.status, 422);
    assert.equal(await r.services.store.stat(sha(fresh)), null);
    for await (const e of r.services.store.list()) assert.notEqual(e.sha256, null, `a leftover: ${e.key}`);
  });
});
