import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BASE_SHA, GIF, loraFile, sha256 } from "../../test/helpers/lora-file.ts";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";

describe("LoRAs and versions", () => {
  let r: TestRegistry;
  let alice: string;
  let bob: string;
  before(async () => {
    r = await startTestRegistry();
    alice = await r.key("alice");
    bob = await r.key("bob");
  });
  after(() => r.stop());

  const create = (token: string, body: Record<string, unknown>) =>
    r.call("POST", "/v1/loras", { token, json: { title: "A motion", category: "single-object", ...body } });
  const upload = async (bytes: Uint8Array, kind: string, token = alice) => {
    const sha = await sha256(bytes);
    const res = await r.call("PUT", `/v1/blobs/${sha}?kind=${kind}`, { token, body: bytes as BodyInit });
    assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
    return sha;
  };

  it("creates a LoRA with unicode text and reads it back", async () => {
    const res = await create(alice, { name: "zig-zag", title: "Zïg-zäg 🌀 ジグザグ", description: "≈ 8 Hz", tags: ["løøp", "fast"] });
    assert.equal(res.status, 201);
    const got = await r.call("GET", "/v1/loras/alice/zig-zag");
    assert.equal(got.body.title, "Zïg-zäg 🌀 ジグザグ");
    assert.deepEqual(got.body.tags, ["løøp", "fast"]);
    assert.ok(got.headers.get("x-request-id"));
  });

  it("rejects invalid slugs and path traversal in names", async () => {
    for (const name of ["../etc", "a/b", "A-Upper", "-lead", "x", "a..b", "dot.name", "a--b"]) {
      const res = await create(alice, { name });
      assert.equal(res.status, 422, name);
      assert.equal(res.body.error.code, "validation_failed");
      assert.match(res.body.error.message, /'name'/);
    }
    const traversal = await r.call("GET", "/v1/loras/alice/..%2f..%2fetc");
    assert.equal(traversal.status, 422);
  });

  it("rejects unknown fields, naming them", async () => {
    const res = await create(alice, { name: "extra-field", owner_id: 1 });
    assert.equal(res.status, 422);
    assert.match(res.body.error.message, /unknown field\(s\): owner_id/);
  });

  it("rejects invalid JSON with a 400", async () => {
    const res = await r.call("POST", "/v1/loras", { token: alice, body: "{", headers: { "content-type": "application/json" } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, "invalid_json");
    assert.ok(res.body.error.requestId);
  });

  it("refuses a duplicate name with slug_taken and keeps the original", async () => {
    await create(alice, { name: "dup", title: "original" });
    const res = await create(alice, { name: "dup", title: "copy" });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, "slug_taken");
    assert.equal((await r.call("GET", "/v1/loras/alice/dup")).body.title, "original");
  });

  it("lets only the owner write, and may not create under another owner", async () => {
    await create(alice, { name: "mine" });
    const patch = await r.call("PATCH", "/v1/loras/alice/mine", { token: bob, json: { title: "stolen" } });
    assert.equal(patch.status, 403);
    const del = await r.call("DELETE", "/v1/loras/alice/mine", { token: bob });
    assert.equal(del.status, 403);
    const foreign = await create(bob, { name: "squat", owner: "alice" });
    assert.equal(foreign.status, 403);
    assert.equal((await r.call("GET", "/v1/loras/alice/mine")).body.title, "A motion");
  });

  it("shows an owner's update at once, despite the read cache", async () => {
    await create(alice, { name: "fresh", title: "before" });
    assert.equal((await r.call("GET", "/v1/loras/alice/fresh")).body.title, "before");
    assert.equal((await r.call("GET", "/v1/loras?q=fresh")).body.data.length, 1);
    const patched = await r.call("PATCH", "/v1/loras/alice/fresh", { token: alice, json: { title: "after", visibility: "private" } });
    assert.equal(patched.status, 200);
    assert.equal((await r.call("GET", "/v1/loras/alice/fresh", { token: alice })).body.title, "after");
    assert.equal((await r.call("GET", "/v1/loras/alice/fresh")).status, 404, "now private");
    assert.equal((await r.call("GET", "/v1/loras?q=fresh")).body.data.length, 0);
  });

  it("hides private LoRAs from others with a 404", async () => {
    await create(alice, { name: "secret", visibility: "private" });
    assert.equal((await r.call("GET", "/v1/loras/alice/secret", { token: alice })).status, 200);
    const other = await r.call("GET", "/v1/loras/alice/secret", { token: bob });
    assert.equal(other.status, 404);
    assert.equal(other.body.error.code, "not_found");
    assert.equal((await r.call("GET", "/v1/loras/alice/secret")).status, 404);
    const list = await r.call("GET", "/v1/loras?q=secret", { token: bob });
    assert.equal(list.body.data.length, 0);
  });

  it("searches name/title/tags, filters, sorts and pages with cursors", async () => {
    for (let i = 0; i < 5; i++) await create(bob, { name: `pan-left-${i}`, title: `Pan ${i}`, category: "camera-motion", tags: ["slow_pan"] });
    const page1 = await r.call("GET", "/v1/loras?category=camera-motion&limit=2");
    assert.equal(page1.body.data.length, 2);
    assert.ok(page1.body.next_cursor);
    const seen = [...page1.body.data];
    let cursor = page1.body.next_cursor;
    while (cursor) {
      const p = await r.call("GET", `/v1/loras?category=camera-motion&limit=2&cursor=${cursor}`);
      seen.push(...p.body.data);
      cursor = p.body.next_cursor;
    }
    assert.deepEqual(
      seen.map((l) => l.name),
      ["pan-left-4", "pan-left-3", "pan-left-2", "pan-left-1", "pan-left-0"],
    );
    // LIKE wildcards in the query are literal.
    assert.equal((await r.call("GET", "/v1/loras?q=w_p")).body.data.length, 5);
    assert.equal((await r.call("GET", "/v1/loras?q=n_l")).body.data.length, 0, "'_' must not act as a wildcard");
    assert.equal((await r.call("GET", "/v1/loras?q=%25")).body.data.length, 0, "'%' must not act as a wildcard");
    assert.equal((await r.call("GET", "/v1/loras?owner=bob&q=pan 3")).body.data[0].name, "pan-left-3");
    const bad = await r.call("GET", "/v1/loras?cursor=garbage");
    assert.equal(bad.status, 422);
    const unknown = await r.call("GET", "/v1/loras?colour=red");
    assert.equal(unknown.status, 422);
  });

  it("publishes versions with metadata read from the file, and counts downloads", async () => {
    await create(alice, { name: "orbit", category: "single-object" });
    const file = loraFile();
    const fileSha = await upload(file, "lora");
    const previewSha = await upload(GIF, "preview");
    const v1 = await r.call("POST", "/v1/loras/alice/orbit/versions", { token: alice, json: { file_sha256: fileSha, preview_sha256: previewSha } });
    assert.equal(v1.status, 201, JSON.stringify(v1.body));
    assert.equal(v1.body.version, 1);
    assert.equal(v1.body.base_model_sha256, BASE_SHA);
    assert.equal(v1.body.rank, 2);
    assert.equal(v1.body.stage, "temporal");
    assert.deepEqual(v1.body.target_heads, [[1, 3], []]);
    assert.deepEqual(v1.body.tuning_config, { steps: 10, sparse_frames: 4 });

    const v2 = await r.call("POST", "/v1/loras/alice/orbit/versions", { token: alice, json: { file_sha256: await upload(loraFile({}, 4), "lora") } });
    assert.equal(v2.body.version, 2);
    assert.equal((await r.call("GET", "/v1/loras/alice/orbit")).body.latest_version, 2);
    assert.equal((await r.call("GET", "/v1/loras/alice/orbit/versions/latest")).body.rank, 4);

    const dl = await r.call("GET", "/v1/loras/alice/orbit/versions/1/file", { token: bob });
    assert.equal(dl.status, 200);
    assert.deepEqual(dl.bytes, file);
    assert.equal(await sha256(dl.bytes), fileSha);
    await r.call("GET", "/v1/loras/alice/orbit/versions/1/file", { headers: { range: "bytes=0-7" } });
    assert.equal((await r.call("GET", "/v1/loras/alice/orbit")).body.downloads, 1);
    assert.equal((await r.call("GET", "/v1/loras/alice/orbit/versions/1")).body.downloads, 1);
    // Anyone who can see the LoRA can fetch its blobs by hash.
    assert.equal((await r.call("GET", `/v1/blobs/${previewSha}`, { token: bob })).status, 200);

    const list = await r.call("GET", "/v1/loras/alice/orbit/versions?limit=1");
    assert.equal(list.body.data[0].version, 2);
    const rest = await r.call("GET", `/v1/loras/alice/orbit/versions?limit=1&cursor=${list.body.next_cursor}`);
    assert.equal(rest.body.data[0].version, 1);
    assert.equal(
      (await r.call("GET", "/v1/loras?base_model=fym-tiny-dit")).body.data.some((l: { name: string }) => l.name === "orbit"),
      true,
    );
  });

  it("rejects a version whose file lacks metadata or disagrees with its rank, and keeps existing versions", async () => {
    await create(alice, { name: "broken" });
    const good = await r.call("POST", "/v1/loras/alice/broken/versions", { token: alice, json: { file_sha256: await upload(loraFile(), "lora") } });
    assert.equal(good.status, 201);
    const noBase = await r.call("POST", "/v1/loras/alice/broken/versions", {
      token: alice,
      json: { file_sha256: await upload(loraFile({ base_model_sha256: undefined }), "lora") },
    });
    assert.equal(noBase.status, 422);
    assert.equal(noBase.body.error.code, "invalid_lora_metadata");
    assert.match(noBase.body.error.message, /'base_model_sha256' is missing/);
    const badRank = await r.call("POST", "/v1/loras/alice/broken/versions", {
      token: alice,
      json: { file_sha256: await upload(loraFile({ rank: "3" }), "lora") },
    });
    assert.equal(badRank.status, 422);
    assert.equal(badRank.body.error.code, "invalid_lora_tensors");
    assert.match(badRank.body.error.message, /with rank 3 on fym-tiny-dit it must be F32 \[3, 192\]/);
    const badHeads = await r.call("POST", "/v1/loras/alice/broken/versions", {
      token: alice,
      json: { file_sha256: await upload(loraFile({ target_heads: "[1," }), "lora") },
    });
    assert.match(badHeads.body.error.message, /target_heads/);
    const missing = await r.call("POST", "/v1/loras/alice/broken/versions", { token: alice, json: { file_sha256: "f".repeat(64) } });
    assert.equal(missing.body.error.code, "blob_missing");
    const versions = await r.call("GET", "/v1/loras/alice/broken/versions");
    assert.deepEqual(
      versions.body.data.map((v: { version: number }) => v.version),
      [1],
    );
  });

  it("refuses to publish a non-LoRA blob as a version", async () => {
    await create(alice, { name: "wrong-kind" });
    const res = await r.call("POST", "/v1/loras/alice/wrong-kind/versions", { token: alice, json: { file_sha256: await upload(GIF, "video") } });
    assert.equal(res.status, 422);
    assert.match(res.body.error.message, /expected a lora/);
  });

  it("soft-deletes: gone from listings, versions still downloadable by hash for jobs", async () => {
    await create(alice, { name: "retired" });
    const fileSha = await upload(loraFile({ alpha: "7" }), "lora");
    await r.call("POST", "/v1/loras/alice/retired/versions", { token: alice, json: { file_sha256: fileSha } });
    assert.equal((await r.call("DELETE", "/v1/loras/alice/retired", { token: alice })).status, 204);
    assert.equal((await r.call("GET", "/v1/loras/alice/retired")).status, 404);
    assert.equal((await r.call("GET", "/v1/loras?q=retired")).body.data.length, 0);
    const runner = await r.key("runner-1", ["runner"]);
    assert.equal((await r.call("GET", `/v1/blobs/${fileSha}`, { token: runner })).status, 200);
    assert.equal((await r.call("GET", `/v1/blobs/${fileSha}`, { token: alice })).status, 200);
  });

  it("answers forged cursors on the LoRA and version lists with 422, not 500", async () => {
    await create(alice, { name: "paged" });
    for (const raw of ['[1e999,"x"]', '[-1e999,"x"]', '[1.5,"x"]', `[1,"${"x".repeat(100)}"]`]) {
      const forged = Buffer.from(raw).toString("base64url");
      for (const path of [`/v1/loras?cursor=${forged}`, `/v1/loras?sort=downloads&cursor=${forged}`, `/v1/loras/alice/paged/versions?cursor=${forged}`]) {
        const res = await r.call("GET", path);
        assert.equal(res.status, 422, `${path} with ${raw}`);
        assert.equal(res.body.error.code, "validation_failed");
      }
    }
  });

  it("lets an owner take a deleted LoRA's name again, keeping the old versions resolvable by hash", async () => {
    await create(alice, { name: "reborn", title: "first life" });
    const fileSha = await upload(loraFile({ alpha: "11" }), "lora");
    const v1 = await r.call("POST", "/v1/loras/alice/reborn/versions", { token: alice, json: { file_sha256: fileSha } });
    assert.equal(v1.status, 201);
    assert.equal((await r.call("DELETE", "/v1/loras/alice/reborn", { token: alice })).status, 204);
    const again = await create(alice, { name: "reborn", title: "second life" });
    assert.equal(again.status, 201, JSON.stringify(again.body));
    const now = (await r.call("GET", "/v1/loras/alice/reborn")).body;
    assert.deepEqual([now.title, now.latest_version, now.id === v1.body.lora_id], ["second life", null, false]);
    assert.equal((await create(alice, { name: "reborn" })).body.error.code, "slug_taken", "one live LoRA per name");
    assert.equal((await create(bob, { name: "reborn", owner: "alice" })).status, 403);
    const runner = await r.key("runner-2", ["runner"]);
    assert.equal((await r.call("GET", `/v1/blobs/${fileSha}`, { token: runner })).status, 200, "the old version's file is still served by hash");
    assert.equal((await r.call("GET", `/v1/blobs/${fileSha}`, { token: alice })).status, 200);
  });
});
