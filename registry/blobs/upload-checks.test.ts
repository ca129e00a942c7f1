import assert from "node:assert/strict";
import { once } from "node:events";
import fsPromises from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { encodeClipPng } from "../../sdk/video/frames.ts";
import { GIF, loraFile, sha256 } from "../../test/helpers/lora-file.ts";
import { clipBomb, pngWith, zeroBomb } from "../../test/helpers/png-bomb.ts";
import { onlyOn, startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";

const KiB = 1024;
/** A GIF-signed blob of `size` bytes, distinct per `tag`. */
const video = (size: number, tag: number) => {
  const b = new Uint8Array(size).fill(tag);
  b.set(GIF.subarray(0, 6));
  return b;
};
const blank = (message: string, sha: string) => message.replaceAll(sha, "<sha>");

describe("uploads: what a hash proves, what a kind must be, what an owner may store", () => {
  let r: TestRegistry;
  let alice: string;
  let bob: string;
  before(async () => {
    r = await startTestRegistry({ ownerQuotaBytes: 64 * KiB });
    alice = await r.key("alice");
    bob = await r.key("bob");
  });
  after(() => r.stop());

  const put = async (bytes: Uint8Array, kind: string, token: string, sha?: string) =>
    r.call("PUT", `/v1/blobs/${sha ?? (await sha256(bytes))}?kind=${kind}`, { token, body: bytes as BodyInit });

  it("grants read access to stored bytes only after a re-upload hashes to them (zero bytes of the right length are refused)", async () => {
    const secret = video(3000, 1);
    const sha = await sha256(secret);
    assert.equal((await put(secret, "video", alice)).status, 201);
    const zeros = await put(new Uint8Array(secret.byteLength), "video", bob, sha);
    assert.equal(zeros.status, 422);
    assert.equal(zeros.body.error.code, "sha256_mismatch");
    assert.equal((await r.call("GET", `/v1/blobs/${sha}`, { token: bob })).status, 404, "no access gained");
    const real = await put(secret, "video", bob);
    assert.equal(real.status, 201);
    assert.equal((await r.call("GET", `/v1/blobs/${sha}`, { token: bob })).status, 200, "the real bytes prove possession");
  });

  it("answers an upload naming someone's private hash exactly as it answers an unknown hash (no size, no kind)", async () => {
    const secret = video(2000, 2);
    const sha = await sha256(secret);
    await put(secret, "video", alice);
    const lora = loraFile({ alpha: "9" });
    const loraSha = await sha256(lora);
    await put(lora, "lora", alice);
    const unknown = "b".repeat(64);
    const guess = video(2500, 3);
    for (const [target, kind] of [
      [sha, "video"],
      [loraSha, "video"],
      [loraSha, "lora"],
    ] as const) {
      const res = await put(guess, kind, bob, target);
      const none = await put(guess, kind, bob, unknown);
      assert.equal(res.status, none.status, `${kind} over ${target.slice(0, 6)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, none.body.error.code);
      assert.equal(blank(res.body.error.message, target), blank(none.body.error.message, unknown));
      assert.doesNotMatch(res.body.error.message, /stored|already/);
    }
  });

  it("answers an upload the same way whether or not the bytes were stored (status and body; no `created`)", async () => {
    const bytes = video(2200, 40);
    const first = await put(bytes, "video", alice);
    const again = await put(bytes, "video", bob);
    const fresh = await put(video(2200, 41), "video", bob);
    assert.equal(first.status, 201);
    assert.equal(again.status, first.status);
    assert.equal(fresh.status, first.status);
    const shape = (b: Record<string, unknown>) => ({ ...b, sha256: "<sha>", created_at: "<now>" });
    assert.deepEqual(shape(again.body), shape(first.body));
    assert.deepEqual(shape(fresh.body), shape(first.body));
    assert.equal("created" in again.body, false);
  });

  it("lets no first uploader fix a blob's kind: each owner's upload is answered with its own kind, and references check the bytes", async () => {
    const mallory = await r.key("mallory");
    const runner = await r.key("runner-k", ["runner"]);
    // Mallory claims a GIF as a video first; a runner stores a LoRA file as an (unsniffed) video.
    const image = video(1500, 42);
    const imageSha = await sha256(image);
    assert.equal((await put(image, "video", mallory)).status, 201);
    const lora = loraFile({ alpha: "7" });
    const loraSha = await sha256(lora);
    assert.equal((await put(lora, "video", runner)).status, 201);

    const asPreview = await put(image, "preview", alice);
    assert.equal(asPreview.status, 201);
    assert.equal(asPreview.body.kind, "preview");
    assert.equal((await r.call("GET", `/v1/blobs/${imageSha}/info`, { token: alice })).body.kind, "preview");
    assert.equal((await r.call("GET", `/v1/blobs/${imageSha}/info`, { token: mallory })).body.kind, "video");
    const asLora = await put(lora, "lora", alice);
    assert.equal(asLora.status, 201, JSON.stringify(asLora.body));
    assert.equal(asLora.body.content_type, "application/vnd.safetensors");

    await r.call("POST", "/v1/loras", { token: alice, json: { name: "kinds", title: "Kinds", category: "single-object" } });
    const v = await r.call("POST", "/v1/loras/alice/kinds/versions", { token: alice, json: { file_sha256: loraSha, preview_sha256: imageSha } });
    assert.equal(v.status, 201, JSON.stringify(v.body));
    // Bytes that are not an image cannot serve as a preview, whatever anyone declared.
    const notImage = await r.call("POST", "/v1/loras/alice/kinds/versions", { token: alice, json: { file_sha256: loraSha, preview_sha256: loraSha } });
    assert.equal(notImage.status, 422);
    assert.match(notImage.body.error.message, /^preview_sha256: blob [0-9a-f]{64} is application\/vnd\.safetensors, which cannot serve as a preview/);
  });

  it("checks bytes found on disk without a row (an orphan) before registering them under the caller's kind", async () => {
    const orphan = new TextEncoder().encode("not a safetensors file, left by a crash");
    const sha = await sha256(orphan);
    await r.services.store.put(sha, new Blob([orphan]).stream(), { maxBytes: KiB });
    const res = await put(orphan, "lora", alice);
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, "invalid_safetensors");
    assert.equal(await r.services.blobs.get(sha), undefined, "no row was made for it");
  });

  it("refuses a video upload that is not GIF, PNG, MP4 or WebM", async () => {
    const res = await put(new TextEncoder().encode("#!/bin/sh\necho free hosting\n"), "video", alice);
    assert.equal(res.status, 422);
    assert.match(res.body.error.message, /a video must be a GIF, PNG \(clip PNG\), MP4 or WebM/);
    const mp4 = Uint8Array.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 7]);
    const ok = await put(mp4, "video", alice);
    assert.equal(ok.status, 201);
    assert.equal(ok.body.content_type, "video/mp4");
  });

  it("refuses a PNG video that is not the model's clip PNG before storing it: another size, or a decompression bomb of the right size", async () => {
    const clip = await encodeClipPng({ width: 32, height: 32, count: 16, rgb: new Uint8Array(16 * 32 * 32 * 3).fill(90) });
    assert.equal((await put(clip, "video", alice)).status, 201, "the SDK's clip PNG of 16 frames of 32×32");
    // 8 KiB that declares 8192×8192: the header alone refuses it, nothing is inflated.
    const huge = pngWith(8192, 8192, zeroBomb(8 * 1024 * 1024));
    // 32 KiB of image data that inflates to 32 MiB, in a header of the clip's own 512×32.
    const bomb = clipBomb(32 * 1024 * 1024);
    for (const [png, why] of [
      [huge, /16 frames of 32×32 \(a 512×32 clip PNG\); this PNG is 8192×8192/],
      [bomb, /inflates past the 49184 bytes its 512×32 header implies/],
    ] as const) {
      const t0 = performance.now();
      const res = await put(png, "video", alice);
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.equal(res.body.error.code, "invalid_video");
      assert.match(res.body.error.message, why);
      assert.ok(performance.now() - t0 < 2_000, `answered in ${(performance.now() - t0).toFixed(0)} ms`);
      assert.equal(await r.services.blobs.get(await sha256(png)), undefined, "nothing was stored");
    }
  });

  it("checks a PNG as a clip when a tune names it as its video, whatever kind it was uploaded as (a preview is not checked as a clip)", async () => {
    await r.call("POST", "/v1/loras", { token: alice, json: { name: "clip-check", title: "Clip check", category: "single-object" } });
    const tuneWith = async (png: Uint8Array) =>
      r.call("POST", "/v1/jobs", {
        token: alice,
        json: { kind: "tune", input: { video_sha256: await sha256(png), prompt: "a white diamond on a striped black background", lora: "alice/clip-check" } },
      });
    for (const [png, why] of [
      [pngWith(64, 64, zeroBomb(1024 * 1024)), /input\.video_sha256: .*16 frames of 32×32 \(a 512×32 clip PNG\); this PNG is 64×64/],
      [clipBomb(4 * 1024 * 1024), /input\.video_sha256: .*inflates past the 49184 bytes its 512×32 header implies/],
    ] as const) {
      assert.equal((await put(png, "preview", alice)).status, 201, "a preview PNG of any size is stored");
      const res = await tuneWith(png);
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.equal(res.body.error.code, "invalid_video");
      assert.match(res.body.error.message, why);
    }
    assert.equal((await r.call("GET", "/v1/jobs", { token: alice })).body.data.length, 0, "no job was queued");
  });

  it("refuses a LoRA whose header names a tensor twice", async () => {
    const entry = '{"dtype":"F32","shape":[2],"data_offsets":[0,8]}';
    const json = new TextEncoder().encode(
      `{"base_model.model.blocks.0.attn.q.lora_A.weight":${entry},"base_model.model.blocks.0.attn.q.lora_A.weight":${entry}}`,
    );
    const file = new Uint8Array(8 + json.byteLength + 8);
    new DataView(file.buffer).setBigUint64(0, BigInt(json.byteLength), true);
    file.set(json, 8);
    const res = await put(file, "lora", alice);
    assert.equal(res.status, 422);
    assert.match(res.body.error.message, /names "base_model\.model\.blocks\.0\.attn\.q\.lora_A\.weight" twice/);
  });

  it("enforces a per-owner byte quota (413 quota_exceeded); bytes already paid for re-upload free; runner uploads are not charged", async () => {
    const carol = await r.key("carol");
    const first = video(40 * KiB, 4);
    assert.equal((await put(first, "video", carol)).status, 201);
    const second = await put(video(30 * KiB, 5), "video", carol);
    assert.equal(second.status, 413);
    assert.equal(second.body.error.code, "quota_exceeded");
    assert.match(
      second.body.error.message,
      /^'carol' holds 40960 bytes of its 65536-byte quota; this 30720-byte upload does not fit\. .*delete LoRAs you no longer need/,
    );
    assert.equal((await put(first, "video", carol)).status, 201, "a re-upload of its own bytes costs nothing");
    assert.equal(await r.services.blobs.usage("carol"), 40 * KiB);
    const runner = await r.key("runner-q", ["runner"]);
    for (let i = 0; i < 3; i++) assert.equal((await put(video(30 * KiB, 10 + i), "video", runner)).status, 201);
  });

  it("flushes a blob's bytes to disk (fsync) before renaming it into place, stored before or not", async (t) => {
    if (onlyOn(t, "node", "the file store's write order; R2 makes an object visible only once it is whole")) return;
    const events: string[] = [];
    const probe = await fsPromises.open(`${r.home}/probe`, "w");
    const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    const sync = proto.sync;
    const rename = fsPromises.rename;
    proto.sync = function (this: unknown) {
      events.push("sync");
      return sync.call(this);
    };
    (fsPromises as { rename: typeof rename }).rename = (a, b) => {
      events.push(`rename ${String(b).includes("/blobs/") ? "into place" : "?"}`);
      return rename(a, b);
    };
    syncBuiltinESMExports();
    const bytes = video(5000, 6);
    let first: string[] = [];
    try {
      assert.equal((await put(bytes, "video", alice)).status, 201);
      first = events.splice(0);
      // Bytes already stored take the same writes (the timing of a re-upload must not tell).
      assert.equal((await put(bytes, "video", bob)).status, 201);
    } finally {
      proto.sync = sync;
      (fsPromises as { rename: typeof rename }).rename = rename;
      syncBuiltinESMExports();
    }
    const at = first.indexOf("rename into place");
    assert.ok(at > 0, `events: ${first.join(", ")}`);
    assert.equal(first[at - 1], "sync", `the bytes are synced right before the rename: ${first.join(", ")}`);
    assert.deepEqual(events, first, "a re-upload of stored bytes syncs and renames the same way");
  });

  it("logs a client that hangs up mid-upload as 499, not as a server error", async () => {
    const dave = await r.key("dave");
    const { port } = new URL(r.url);
    const socket = connect(Number(port), "127.0.0.1");
    await once(socket, "connect");
    socket.on("error", () => {});
    socket.write(
      `PUT /v1/blobs/${"9".repeat(64)}?kind=video HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${dave}\r\nx-request-id: hangup-1\r\n` +
        "Content-Length: 60000\r\n\r\n",
    );
    socket.write(Buffer.alloc(20_000, 1));
    await new Promise((ok) => setTimeout(ok, 100));
    socket.destroy();
    const deadline = Date.now() + 3_000;
    while (!r.logs.some((l) => l.requestId === "hangup-1" && l.status !== undefined) && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
    const line = r.logs.find((l) => l.requestId === "hangup-1" && l.status !== undefined);
    assert.equal(line?.status, 499);
    assert.equal(
      r.logs.some((l) => l.requestId === "hangup-1" && l.level === "error"),
      false,
      "no error logged",
    );
  });
});
