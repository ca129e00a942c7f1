import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { GIF, loraFile, sha256 } from "../../test/helpers/lora-file.ts";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";

const KiB = 1024;

describe("blobs", () => {
  let r: TestRegistry;
  let alice: string;
  let bob: string;
  before(async () => {
    r = await startTestRegistry({ blobLimits: { lora: 64 * KiB, video: 64 * KiB, preview: 1 * KiB } });
    alice = await r.key("alice");
    bob = await r.key("bob");
  });
  after(() => r.stop());

  const put = async (bytes: Uint8Array, kind: string, token = alice, sha?: string) =>
    r.call("PUT", `/v1/blobs/${sha ?? (await sha256(bytes))}?kind=${kind}`, { token, body: bytes as BodyInit });

  // Temporaries a refused upload left in the store (files in tmp/ on Node; R2 writes none).
  const tmpFiles = async () => {
    const left: string[] = [];
    for await (const e of r.services.store.list()) if (e.sha256 === null) left.push(e.key);
    return left;
  };

  it("stores an upload under its hash, and a second upload of the same bytes is answered the same way", async () => {
    const first = await put(GIF, "preview");
    assert.equal(first.status, 201);
    assert.equal(first.body.content_type, "image/gif");
    assert.equal(first.body.size, GIF.byteLength);
    const again = await put(GIF, "preview");
    assert.equal(again.status, 201);
    assert.deepEqual({ ...again.body, created_at: 0 }, { ...first.body, created_at: 0 });
  });

  it("rejects bytes that do not hash to the declared sha256, and stores nothing", async () => {
    const wrong = "0".repeat(64);
    const res = await put(GIF, "preview", alice, wrong);
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, "sha256_mismatch");
    assert.equal((await r.call("GET", `/v1/blobs/${wrong}`, { token: alice })).status, 404);
    assert.deepEqual(await tmpFiles(), []);
  });

  it("refuses a declared size over the kind's limit before reading (413)", async () => {
    const big = new Uint8Array(2 * KiB);
    const res = await put(big, "preview");
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, "payload_too_large");
  });

  it("stops reading an endless body past the limit, answers 413 and leaves no partial blob", async () => {
    // A raw socket, because fetch stops sending by itself once a response arrives.
    const sha = "1".repeat(64);
    const { port } = new URL(r.url);
    const socket = connect(Number(port), "127.0.0.1");
    await once(socket, "connect");
    let reply = "";
    socket.on("data", (d) => (reply += d.toString()));
    socket.on("error", () => {});
    socket.write(`PUT /v1/blobs/${sha}?kind=preview&size=512 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = Buffer.concat([Buffer.from("10000\r\n"), Buffer.alloc(0x10000, 7), Buffer.from("\r\n")]);
    let sent = 0;
    const deadline = Date.now() + 3_000;
    while (sent < 64 * 1024 * KiB && Date.now() < deadline && !socket.destroyed) {
      sent += chunk.byteLength;
      if (!socket.write(chunk)) {
        // A server that stopped reading never drains; one that reads on would.
        const drained = await Promise.race([
          once(socket, "drain").then(
            () => true,
            () => false,
          ),
          new Promise((ok) => setTimeout(() => ok(false), 500)),
        ]);
        if (!drained) break;
      }
    }
    socket.destroy();
    assert.match(reply, /^HTTP\/1\.1 413/);
    assert.ok(sent < 16 * 1024 * KiB, `the server accepted ${sent} bytes of a body over its 1 KiB limit`);
    assert.deepEqual(await tmpFiles(), []);
    assert.equal(await r.services.blobs.get(sha), undefined);
  });

  it("rejects a body shorter than its declared size", async () => {
    const res = await r.call("PUT", `/v1/blobs/${await sha256(GIF)}0?kind=preview`, { token: alice, body: GIF as BodyInit });
    assert.equal(res.status, 422, "a 65-char hash is invalid");
    const stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        c.enqueue(GIF);
        c.close();
      },
    });
    const short = await r.call("PUT", `/v1/blobs/${await sha256(GIF)}?kind=video&size=${GIF.byteLength + 10}`, { token: bob, body: stream });
    assert.equal(short.status, 422);
    assert.equal(short.body.error.code, "size_mismatch");
  });

  it("needs a declared size", async () => {
    const stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        c.enqueue(GIF);
        c.close();
      },
    });
    const res = await r.call("PUT", `/v1/blobs/${await sha256(GIF)}?kind=video`, { token: alice, body: stream });
    assert.equal(res.status, 411);
  });

  it("validates LoRA uploads as safetensors and refuses pickles", async () => {
    const ok = await put(loraFile(), "lora");
    assert.equal(ok.status, 201);
    assert.equal(ok.body.content_type, "application/vnd.safetensors");

    const pickle = new Uint8Array([0x80, 0x04, 0x95, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const p = await put(pickle, "lora");
    assert.equal(p.status, 422);
    assert.match(p.body.error.message, /pickle/);

    const truncated = loraFile().subarray(0, 100);
    const t = await put(truncated, "lora");
    assert.equal(t.status, 422);
    assert.equal(t.body.error.code, "invalid_safetensors");
    assert.match(t.body.error.message, /truncated|past the end|past the/);
    assert.deepEqual(await tmpFiles(), []);
  });

  it("rejects a preview that is not an image", async () => {
    const res = await put(new TextEncoder().encode("<html>hi</html>"), "preview");
    assert.equal(res.status, 422);
    assert.match(res.body.error.message, /GIF or PNG/);
  });

  it("serves ETag, 304, ranges, If-Range and 416", async () => {
    const bytes = new Uint8Array(1000).map((_, i) => i % 251);
    bytes.set(GIF.subarray(0, 6)); // a video must look like one
    const sha = await sha256(bytes);
    assert.equal((await put(bytes, "video")).status, 201);
    const full = await r.call("GET", `/v1/blobs/${sha}`, { token: alice });
    assert.equal(full.status, 200);
    assert.equal(full.headers.get("etag"), `"${sha}"`);
    assert.deepEqual(full.bytes, bytes);

    const notModified = await r.call("GET", `/v1/blobs/${sha}`, { token: alice, headers: { "if-none-match": `"${sha}"` } });
    assert.equal(notModified.status, 304);

    const part = await r.call("GET", `/v1/blobs/${sha}`, { token: alice, headers: { range: "bytes=10-19" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), "bytes 10-19/1000");
    assert.deepEqual(part.bytes, bytes.subarray(10, 20));

    const suffix = await r.call("GET", `/v1/blobs/${sha}`, { token: alice, headers: { range: "bytes=-5" } });
    assert.deepEqual(suffix.bytes, bytes.subarray(995));

    const stale = await r.call("GET", `/v1/blobs/${sha}`, { token: alice, headers: { range: "bytes=0-9", "if-range": '"other"' } });
    assert.equal(stale.status, 200);
    assert.equal(stale.bytes.byteLength, 1000);

    const beyond = await r.call("GET", `/v1/blobs/${sha}`, { token: alice, headers: { range: "bytes=5000-" } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get("content-range"), "bytes */1000");
  });

  it("hides a blob from others until a visible LoRA version uses it (404, not 403)", async () => {
    const bytes = new Uint8Array(300).fill(9);
    bytes.set(GIF.subarray(0, 6));
    const sha = await sha256(bytes);
    await put(bytes, "video", alice);
    assert.equal((await r.call("GET", `/v1/blobs/${sha}`, { token: bob })).status, 404);
    assert.equal((await r.call("GET", `/v1/blobs/${sha}`)).status, 404);
    assert.equal((await r.call("GET", `/v1/blobs/${sha}`, { token: r.admin })).status, 200);
  });

  it("ends a read grant when the LoRA version holding the blob is made private or deleted; a grant no version holds stands", async () => {
    const carol = await r.key("carol");
    const publish = async (name: string, alpha: string) => {
      await r.call("POST", "/v1/loras", { token: alice, json: { name, title: name, category: "single-object" } });
      const sha = await sha256(loraFile({ alpha }));
      await put(loraFile({ alpha }), "lora");
      assert.equal((await r.call("POST", `/v1/loras/alice/${name}/versions`, { token: alice, json: { file_sha256: sha } })).status, 201);
      return sha;
    };
    const privatised = await publish("goes-private", "3");
    const deleted = await publish("goes-away", "5");
    const generate = await r.call("POST", "/v1/jobs", {
      token: carol,
      json: {
        kind: "generate",
        input: { prompt: "a red circle on a black background", loras: [{ ref: "alice/goes-private" }, { ref: "alice/goes-away" }] },
      },
    });
    assert.equal(generate.status, 201, JSON.stringify(generate.body));
    // Grants an older registry wrote at job creation, and one of a blob no version holds (a generate job's result).
    const clip = new Uint8Array(200).fill(4);
    clip.set(GIF.subarray(0, 6));
    await put(clip, "video", bob);
    for (const sha of [privatised, deleted, await sha256(clip)]) await r.services.blobs.grant(sha, "carol");
    const read = async (sha: string) => (await r.call("GET", `/v1/blobs/${sha}`, { token: carol })).status;
    assert.deepEqual([await read(privatised), await read(deleted)], [200, 200], "readable while the LoRAs are public");

    await r.call("PATCH", "/v1/loras/alice/goes-private", { token: alice, json: { visibility: "private" } });
    await r.call("DELETE", "/v1/loras/alice/goes-away", { token: alice });
    assert.equal(await read(privatised), 404, "not after the LoRA is made private");
    assert.equal(await read(deleted), 404, "not after it is deleted");
    assert.equal((await r.call("GET", `/v1/blobs/${privatised}/info`, { token: carol })).status, 404);
    assert.equal(await read(await sha256(clip)), 200, "a grant of a blob no version holds stands");
    assert.equal((await r.call("GET", `/v1/blobs/${deleted}`, { token: alice })).status, 200, "the uploader keeps her bytes");
    await r.call("POST", `/v1/jobs/${generate.body.id}/cancel`, { token: carol });
  });

  it("needs a write key to upload", async () => {
    assert.equal((await r.call("PUT", `/v1/blobs/${await sha256(GIF)}?kind=preview`, { body: GIF as BodyInit })).status, 401);
    const reader = await r.key("carol", ["read"]);
    const res = await r.call("PUT", `/v1/blobs/${await sha256(GIF)}?kind=preview`, { token: reader, body: GIF as BodyInit });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, "insufficient_scope");
  });
});
