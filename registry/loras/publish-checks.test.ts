import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TensorData } from "../../sdk/safetensors/encode.ts";
import { DIM, f32, GIF, loraFile, sha256, tensorName } from "../../test/helpers/lora-file.ts";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";

/** A GIF that hashes differently from every other one made with another `tag`. */
const gif = (tag: number) => Uint8Array.from([...GIF, tag]);

describe("publishing: what a version may name and what its file must be", () => {
  let r: TestRegistry;
  let alice: string;
  let bob: string;
  before(async () => {
    r = await startTestRegistry();
    alice = await r.key("alice");
    bob = await r.key("bob");
  });
  after(() => r.stop());

  const upload = async (bytes: Uint8Array, kind: string, token = alice) => {
    const sha = await sha256(bytes);
    const res = await r.call("PUT", `/v1/blobs/${sha}?kind=${kind}`, { token, body: bytes as BodyInit });
    assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
    return sha;
  };
  const create = (token: string, name: string, extra: Record<string, unknown> = {}) =>
    r.call("POST", "/v1/loras", { token, json: { name, title: name, category: "single-object", ...extra } });
  const publish = (token: string, slug: string, json: Record<string, unknown>) => r.call("POST", `/v1/loras/${slug}/versions`, { token, json });
  /** An error message with its hash blanked, to compare the answer for someone's blob with the answer for no blob. */
  const blank = (message: string, sha: string) => message.replaceAll(sha, "<sha>");

  it("refuses to publish a version whose file_sha256, preview_sha256, reference_video_sha256 or a sample the caller cannot read, in the words an unknown hash gets", async () => {
    await create(alice, "private-src", { visibility: "private" });
    const aliceFile = await upload(loraFile({ alpha: "5" }), "lora");
    const alicePreview = await upload(gif(1), "preview");
    const aliceVideo = await upload(gif(2), "video");
    const own = await publish(alice, "alice/private-src", { file_sha256: aliceFile, preview_sha256: alicePreview, reference_video_sha256: aliceVideo });
    assert.equal(own.status, 201, JSON.stringify(own.body));

    await create(bob, "thief");
    const bobFile = await upload(loraFile({ alpha: "6" }), "lora", bob);
    const unknown = "d".repeat(64);
    const cases: [string, string, Record<string, unknown>, Record<string, unknown>][] = [
      ["file_sha256", aliceFile, { file_sha256: aliceFile }, { file_sha256: unknown }],
      ["preview_sha256", alicePreview, { file_sha256: bobFile, preview_sha256: alicePreview }, { file_sha256: bobFile, preview_sha256: unknown }],
      [
        "reference_video_sha256",
        aliceVideo,
        { file_sha256: bobFile, reference_video_sha256: aliceVideo },
        { file_sha256: bobFile, reference_video_sha256: unknown },
      ],
      [
        "samples.0.preview_sha256",
        alicePreview,
        { file_sha256: bobFile, samples: [{ prompt: "a red circle on a black background", preview_sha256: alicePreview }] },
        { file_sha256: bobFile, samples: [{ prompt: "a red circle on a black background", preview_sha256: unknown }] },
      ],
    ];
    for (const [field, sha, stolen, missing] of cases) {
      const res = await publish(bob, "bob/thief", stolen);
      const none = await publish(bob, "bob/thief", missing);
      assert.equal(res.status, 422, `${field}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, "blob_missing", field);
      assert.equal(blank(res.body.error.message, sha), blank(none.body.error.message, unknown), `${field}: indistinguishable from an unknown hash`);
    }
    assert.equal((await r.call("GET", "/v1/loras/bob/thief")).body.latest_version, null, "nothing was published");
    for (const sha of [aliceFile, alicePreview, aliceVideo]) assert.equal((await r.call("GET", `/v1/blobs/${sha}`)).status, 404);
  });

  it("refuses a tune job naming a video the caller cannot read, in the words an unknown hash gets", async () => {
    const alicePreview = await upload(gif(3), "preview");
    const res = await r.call("POST", "/v1/jobs", {
      token: bob,
      json: { kind: "tune", input: { video_sha256: alicePreview, prompt: "a red circle on a black background", lora: "bob/thief" } },
    });
    const none = await r.call("POST", "/v1/jobs", {
      token: bob,
      json: { kind: "tune", input: { video_sha256: "c".repeat(64), prompt: "a red circle on a black background", lora: "bob/thief" } },
    });
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, "blob_missing", "not 'is a preview, expected a video'");
    assert.equal(blank(res.body.error.message, alicePreview), blank(none.body.error.message, "c".repeat(64)));
  });

  it("refuses a LoRA whose __metadata__ is over 64 KiB, and lists versions without their metadata unless asked", async () => {
    const huge = await r.call("PUT", `/v1/blobs/${await sha256(loraFile({ notes: "x".repeat(70 * 1024) }))}?kind=lora`, {
      token: alice,
      body: loraFile({ notes: "x".repeat(70 * 1024) }) as BodyInit,
    });
    assert.equal(huge.status, 422);
    assert.equal(huge.body.error.code, "invalid_safetensors");
    assert.match(huge.body.error.message, /__metadata__ is \d+ bytes; the limit is 65536/);

    await create(alice, "chatty");
    const file = await upload(loraFile({ notes: "y".repeat(60 * 1024) }), "lora");
    assert.equal((await publish(alice, "alice/chatty", { file_sha256: file })).status, 201);
    const list = await r.call("GET", "/v1/loras/alice/chatty/versions");
    assert.equal(list.body.data[0].metadata, undefined);
    assert.ok(list.bytes.byteLength < 4096, `a list of one version is ${list.bytes.byteLength} bytes`);
    const withMeta = await r.call("GET", "/v1/loras/alice/chatty/versions?include=metadata");
    assert.equal(withMeta.body.data[0].metadata.notes.length, 60 * 1024);
    assert.equal((await r.call("GET", "/v1/loras/alice/chatty/versions/1")).body.metadata.notes.length, 60 * 1024);
  });

  it("refuses, at upload, a LoRA header over the LoRA header limit or with more tensors than the model has, without parsing it", async () => {
    // 49 tensors: one more than 6 blocks × 4 projections × (A, B).
    const many: TensorData[] = Array.from({ length: 49 }, (_, i) => f32(`t${i}`, [1]));
    const tooMany = loraFile({}, 2, many);
    const res = await r.call("PUT", `/v1/blobs/${await sha256(tooMany)}?kind=lora`, { token: alice, body: tooMany as BodyInit });
    assert.equal(res.status, 422);
    assert.match(res.body.error.message, /lists 49 tensors; the limit is 48/);

    // A 2 MB header (the attack's was 95 MB): refused by its length prefix alone.
    const big = new Uint8Array(8 + 2_000_000);
    new DataView(big.buffer).setBigUint64(0, 2_000_000n, true);
    big.set(new TextEncoder().encode('{"a":'), 8);
    const t0 = performance.now();
    const bigRes = await r.call("PUT", `/v1/blobs/${await sha256(big)}?kind=lora`, { token: alice, body: big as BodyInit });
    assert.equal(bigRes.status, 422);
    assert.match(bigRes.body.error.message, /header length 2000000 exceeds the 98304-byte limit/);
    assert.ok(performance.now() - t0 < 2_000);
  });

  it("refuses at publish a LoRA the base model cannot use (NaN/Inf weights, unknown names, wrong inner dimension, foreign base model), with the reason", async () => {
    await create(alice, "unusable");
    const A = tensorName(0, "q", "A");
    const B = tensorName(0, "q", "B");
    const nan = f32(A, [2, DIM]);
    new Float32Array(nan.data.buffer)[7] = NaN;
    const inf = f32(B, [DIM, 2]);
    new Float32Array(inf.data.buffer)[3] = Infinity;
    const cases: [string, Uint8Array, string, RegExp][] = [
      ["NaN weights", loraFile({}, 2, [nan, f32(B, [DIM, 2])]), "invalid_lora_tensors", /holds NaN at element 7/],
      ["Infinity weights", loraFile({}, 2, [f32(A, [2, DIM]), inf]), "invalid_lora_tensors", /holds Infinity at element 3/],
      [
        "an unknown tensor name",
        loraFile({}, 2, [f32(A, [2, DIM]), f32(B, [DIM, 2]), f32("base_model.model.blocks.0.mlp.lora_A.weight", [2, DIM])]),
        "invalid_lora_tensors",
        /is not a LoRA tensor of fym-tiny-dit/,
      ],
      [
        "a block the model lacks",
        loraFile({}, 2, [f32(tensorName(6, "q", "A"), [2, DIM]), f32(tensorName(6, "q", "B"), [DIM, 2])]),
        "invalid_lora_tensors",
        /blocks\.6\.attn\.q\.lora_A\.weight' is not a LoRA tensor/,
      ],
      ["a wrong inner dimension", loraFile({}, 2, [f32(A, [2, 8]), f32(B, [8, 2])]), "invalid_lora_tensors", /must be F32 \[2, 192\]/],
      ["an A without its B", loraFile({}, 2, [f32(A, [2, DIM])]), "invalid_lora_tensors", /has no partner/],
      ["a rank above the model's", loraFile({}, 9, [f32(A, [9, DIM]), f32(B, [DIM, 9])]), "invalid_lora_metadata", /rank 9 exceeds fym-tiny-dit's LoRA rank 8/],
      ["a foreign base model hash", loraFile({ base_model_sha256: "b".repeat(64) }), "base_model_mismatch", /re-tune it on fym-tiny-dit/],
      ["a foreign base model id", loraFile({ base_model_id: "sdxl" }), "base_model_mismatch", /tuned on base model sdxl/],
    ];
    for (const [what, bytes, code, message] of cases) {
      const res = await publish(alice, "alice/unusable", { file_sha256: await upload(bytes, "lora") });
      assert.equal(res.status, 422, `${what}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, code, what);
      assert.match(res.body.error.message, message, what);
    }
    assert.equal((await r.call("GET", "/v1/loras/alice/unusable")).body.latest_version, null);
  });
});
