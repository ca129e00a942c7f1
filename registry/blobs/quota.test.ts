import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { blobUploads } from "../db/schema.ts";
import { GIF, loraFile, sha256 } from "../../test/helpers/lora-file.ts";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";

const KiB = 1024;
const DAY = 24 * 60 * 60 * 1000;
/** A GIF-signed blob of `size` bytes, distinct per `tag`. */
const gif = (size: number, tag: number) => {
  const b = new Uint8Array(size).fill(tag);
  b.set(GIF.subarray(0, 6));
  return b;
};

describe("upload quota under concurrent uploads", () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry({ ownerQuotaBytes: 1024 * KiB });
  });
  after(() => r.stop());

  /**
   * PUTs `bytes` as a body that sends its first 64 KiB and then waits for `gate`: every upload has
   * started (and had its quota checked) before any can finish.
   */
  const gatedPut = async (token: string, bytes: Uint8Array, gate: Promise<void>) => {
    const sha = await sha256(bytes);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        if (sent > 0) await gate;
        const n = Math.min(64 * KiB, bytes.byteLength - sent);
        ctl.enqueue(bytes.subarray(sent, sent + n));
        sent += n;
        if (sent === bytes.byteLength) ctl.close();
      },
    });
    const res = await fetch(`${r.url}/v1/blobs/${sha}?kind=video&size=${bytes.byteLength}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}` },
      body,
      duplex: "half",
    } as RequestInit).catch((e: Error) => e);
    if (res instanceof Error) return { status: 0, code: String(res.cause ?? res) };
    const json = (await res.json()) as { error?: { code: string } };
    return { status: res.status, code: json.error?.code };
  };

  it("stores exactly what fits when 8 × 400 KiB race a 1 MiB quota, and usage is exact", async () => {
    const mallory = await r.key("mallory");
    let open!: () => void;
    const gate = new Promise<void>((ok) => {
      open = ok;
    });
    const uploads = Array.from({ length: 8 }, (_, i) => gatedPut(mallory, gif(400 * KiB, 10 + i), gate));
    // Long enough for all eight to reach the quota check with their bodies held back.
    setTimeout(open, 400);
    const results = await Promise.all(uploads);
    assert.equal(results.filter((x) => x.status === 201).length, 2, JSON.stringify(results));
    // A refusal closes the connection mid-body, so a client may see the socket close (EPIPE) before
    // it reads the 413: the server's log has every answer.
    const refused = r.logs.filter((l) => l.method === "PUT" && l.status === 413);
    assert.equal(refused.length, 6, JSON.stringify(results));
    for (const x of results) if (x.status !== 201 && x.status !== 0) assert.equal(x.code, "quota_exceeded", JSON.stringify(results));
    assert.equal(await r.services.blobs.usage("mallory"), 2 * 400 * KiB);
    assert.deepEqual(await r.services.db.select().from(blobUploads), [], "every reservation was settled or released");
  });

  it("releases a failed upload's reservation, and counts the same bytes uploaded twice at once only once", async () => {
    const nina = await r.key("nina");
    const big = gif(700 * KiB, 30);
    const wrongHash = await r.call("PUT", `/v1/blobs/${"0".repeat(64)}?kind=video`, { token: nina, body: big as BodyInit });
    assert.equal(wrongHash.body.error.code, "sha256_mismatch");
    let open!: () => void;
    const gate = new Promise<void>((ok) => {
      open = ok;
    });
    const twice = [gatedPut(nina, big, gate), gatedPut(nina, big, gate)];
    setTimeout(open, 300);
    assert.deepEqual(
      (await Promise.all(twice)).map((x) => x.status),
      [201, 201],
    );
    assert.equal(await r.services.blobs.usage("nina"), 700 * KiB);
    const rest = await r.call("PUT", `/v1/blobs/${await sha256(gif(324 * KiB, 31))}?kind=video`, { token: nina, body: gif(324 * KiB, 31) as BodyInit });
    assert.equal(rest.status, 201, "exactly the remaining 324 KiB fit");
    const over = await r.call("PUT", `/v1/blobs/${await sha256(gif(100, 32))}?kind=preview`, { token: nina, body: gif(100, 32) as BodyInit });
    assert.equal(over.status, 413);
  });
});

describe("quota given back: what deleting frees", () => {
  let r: TestRegistry;
  let alice: string;
  let bob: string;
  let runner: string;
  const lora = loraFile({ alpha: "1.5" });
  const preview = gif(10 * KiB, 1);
  const clip = gif(20 * KiB, 2);
  const QUOTA = lora.byteLength + preview.byteLength + clip.byteLength;
  before(async () => {
    r = await startTestRegistry({ ownerQuotaBytes: QUOTA, unreferencedBlobGraceMs: 60_000 });
    alice = await r.key("alice");
    bob = await r.key("bob");
    runner = await r.key("runner", ["runner"]);
  });
  after(() => r.stop());

  const put = async (bytes: Uint8Array, kind: string, token: string) => {
    const sha = await sha256(bytes);
    const res = await r.call("PUT", `/v1/blobs/${sha}?kind=${kind}`, { token, body: bytes as BodyInit });
    return { sha, status: res.status, body: res.body };
  };
  const publish = async (token: string, owner: string, name: string, version: Record<string, unknown>) => {
    await r.call("POST", "/v1/loras", { token, json: { name, title: name, category: "single-object" } });
    const res = await r.call("POST", `/v1/loras/${owner}/${name}/versions`, { token, json: version });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  };
  const stored = async (sha: string) => (await r.services.blobs.get(sha)) !== undefined && (await r.services.store.stat(sha)) !== null;

  it("deleting a LoRA gives its files back at the next collection; a blob another owner's LoRA uses stays, charged to that owner only", async () => {
    const file = await put(lora, "lora", alice);
    const shot = await put(preview, "preview", alice);
    const ref = await put(clip, "video", alice);
    await publish(alice, "alice", "spin", { file_sha256: file.sha, preview_sha256: shot.sha });
    await publish(alice, "alice", "keep", { file_sha256: file.sha, reference_video_sha256: ref.sha });
    assert.equal(await r.services.blobs.usage("alice"), QUOTA);
    const full = await put(gif(100, 3), "preview", alice);
    assert.equal(full.status, 413);
    assert.match(full.body.error.message, /delete LoRAs you no longer need/);
    // Bob uploads the same file and preview and publishes them too.
    assert.equal((await put(lora, "lora", bob)).status, 201);
    assert.equal((await put(preview, "preview", bob)).status, 201);
    await publish(bob, "bob", "also", { file_sha256: file.sha, preview_sha256: shot.sha });

    assert.equal((await r.call("DELETE", "/v1/loras/alice/spin", { token: alice })).status, 204);
    assert.equal((await r.call("DELETE", "/v1/loras/alice/keep", { token: alice })).status, 204);
    const later = Date.now() + 2 * 60_000;
    const pass = await r.services.blobs.collectUnreferenced(later);
    assert.equal(pass.versions, 2, "the deleted LoRAs' versions go: no job ran with them");
    assert.equal(pass.removed, 1, "only the reference clip was used by nothing else");
    assert.equal(await stored(ref.sha), false);
    assert.equal(await stored(shot.sha), true, "bob's live version still uses the preview");
    assert.equal(await stored(file.sha), true, "and the LoRA file");
    assert.equal(await r.services.blobs.usage("alice"), 0, "alice holds nothing any more");
    assert.equal(await r.services.blobs.usage("bob"), lora.byteLength + preview.byteLength, "bob pays for what he uploaded and uses");

    const again = await put(gif(QUOTA, 4), "video", alice);
    assert.equal(again.status, 201, "the whole quota is usable again");
  });

  it("a finished job keeps its input, its results and the deleted LoRA version it ran with until its retention ends", async () => {
    const carol = await r.key("carol");
    const file = await put(loraFile({ alpha: "2.5" }), "lora", carol);
    await publish(carol, "carol", "pinned", { file_sha256: file.sha });
    await r.call("PATCH", "/v1/loras/carol/pinned", { token: carol, json: { visibility: "public" } });
    const input = await put(gif(5 * KiB, 5), "video", carol);
    const tune = await r.call("POST", "/v1/jobs", {
      token: carol,
      json: { kind: "tune", input: { video_sha256: input.sha, prompt: "a red circle on a black background", lora: "carol/pinned" } },
    });
    assert.equal(tune.status, 201, JSON.stringify(tune.body));
    // Dave's generate job pins carol's version, and the runner uploads its result.
    const dave = await r.key("dave");
    const gen = await r.call("POST", "/v1/jobs", {
      token: dave,
      json: { kind: "generate", input: { prompt: "a red circle on a black background", loras: [{ ref: "carol/pinned", weight: 1 }] } },
    });
    assert.equal(gen.status, 201, JSON.stringify(gen.body));
    const claims = [];
    for (const id of [tune.body.id, gen.body.id]) {
      const claim = (await r.call("POST", "/v1/runner/claim", { token: runner, json: { runner_id: "r1", kinds: [id === gen.body.id ? "generate" : "tune"] } }))
        .body;
      assert.equal(claim.job.id, id);
      claims.push(claim);
    }
    assert.equal((await r.call("POST", `/v1/jobs/${tune.body.id}/cancel`, { token: carol })).status, 200);
    const result = await put(gif(6 * KiB, 6), "video", runner);
    const done = await r.call("POST", `/v1/jobs/${gen.body.id}/complete`, {
      token: runner,
      json: { lease_token: claims[1].lease_token, result: { video_sha256: result.sha, blobs: [{ sha256: result.sha, kind: "video" }] } },
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal((await r.call("DELETE", "/v1/loras/carol/pinned", { token: carol })).status, 204);

    const inRetention = await r.services.blobs.collectUnreferenced(Date.now() + DAY);
    assert.equal(inRetention.versions, 0, "dave's job still pins the deleted version");
    for (const sha of [file.sha, input.sha, result.sha]) assert.equal(await stored(sha), true);
    assert.equal(await r.services.blobs.usage("carol"), input.body.size, "her job's input counts; the file dave's job keeps is no longer hers to pay for");
    assert.equal((await r.call("GET", `/v1/blobs/${result.sha}`, { token: dave })).status, 200);

    const pastRetention = await r.services.blobs.collectUnreferenced(Date.now() + 8 * DAY);
    assert.equal(pastRetention.versions, 1);
    for (const sha of [file.sha, input.sha, result.sha]) assert.equal(await stored(sha), false);
    assert.equal(await r.services.blobs.usage("carol"), 0);
  });

  it("keeps an upload nothing uses yet for the grace period, and counts it until then", async () => {
    const erin = await r.key("erin");
    const fresh = await put(gif(3 * KiB, 7), "video", erin);
    assert.equal((await r.services.blobs.collectUnreferenced(Date.now() + 30_000)).removed, 0);
    assert.equal(await r.services.blobs.usage("erin"), 3 * KiB);
    assert.equal((await r.services.blobs.collectUnreferenced(Date.now() + 2 * 60_000)).removed, 1);
    assert.equal(await stored(fresh.sha), false);
    assert.equal(await r.services.blobs.usage("erin"), 0);
  });
});
