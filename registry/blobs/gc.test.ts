import assert from "node:assert/strict";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { blobOwners } from "../db/schema.ts";
import { GIF, loraFile, sha256 } from "../../test/helpers/lora-file.ts";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";

describe("orphan blob collection", () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry({ orphanGraceMs: 60_000 });
  });
  after(() => r.stop());

  it("a crash between blob write and row insert leaves no row pointing at a missing blob, and the orphan is collected", async () => {
    const alice = await r.key("alice");
    const kept = await sha256(GIF);
    await r.call("PUT", `/v1/blobs/${kept}?kind=preview`, { token: alice, body: GIF as BodyInit });

    // Simulate the crash: bytes committed to the store, process dies before the row insert.
    const orphanBytes = new TextEncoder().encode("orphaned bytes");
    const orphan = await sha256(orphanBytes);
    await r.services.store.put(orphan, new Blob([orphanBytes]).stream(), { maxBytes: 1024 });
    assert.equal(await r.services.blobs.get(orphan), undefined, "no row for the orphan");
    assert.equal((await r.call("GET", `/v1/blobs/${orphan}`, { token: r.admin })).status, 404);
    // And, on Node, an abandoned temporary from an upload cut off mid-stream (R2 writes none: a
    // multipart upload is aborted, and R2 expires any it could not abort).
    const tmp = r.target === "node" ? join(r.home, "tmp", `${orphan}.abandoned`) : null;
    if (tmp) await writeFile(tmp, "partial");
    const leftovers = tmp ? 1 : 0;

    // Young files survive (an upload may be about to insert its row).
    assert.deepEqual(await r.services.blobs.collectOrphans(), { removed: 0, kept: 2 + leftovers });

    // Two minutes on, past the grace period: the orphan and the temporary go, the blob with a row stays.
    assert.deepEqual(await r.services.blobs.collectOrphans(Date.now() + 120_000), { removed: 1 + leftovers, kept: 1 });
    if (tmp) assert.deepEqual(await readdir(join(r.home, "tmp")), []);
    assert.equal(await r.services.store.stat(orphan), null);
    assert.equal((await r.call("GET", `/v1/blobs/${kept}`, { token: alice })).status, 200);
  });
});

describe("unreferenced blob collection", () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry({ unreferencedBlobGraceMs: 60_000 });
  });
  after(() => r.stop());

  it("collects, after the grace period, blobs no version or job refers to (a file refused at publish), and keeps the rest", async () => {
    const alice = await r.key("alice");
    const put = async (bytes: Uint8Array, kind: string) => {
      const sha = await sha256(bytes);
      assert.ok((await r.call("PUT", `/v1/blobs/${sha}?kind=${kind}`, { token: alice, body: bytes as BodyInit })).status < 300);
      return sha;
    };
    await r.call("POST", "/v1/loras", { token: alice, json: { name: "kept", title: "Kept", category: "single-object" } });
    const published = await put(loraFile({ alpha: "3" }), "lora");
    assert.equal((await r.call("POST", "/v1/loras/alice/kept/versions", { token: alice, json: { file_sha256: published } })).status, 201);
    const refused = await put(loraFile({ base_model_sha256: "b".repeat(64) }), "lora");
    assert.equal((await r.call("POST", "/v1/loras/alice/kept/versions", { token: alice, json: { file_sha256: refused } })).status, 422);
    const jobInput = await put(Uint8Array.from([...GIF, 1]), "video");
    assert.equal(
      (
        await r.call("POST", "/v1/jobs", {
          token: alice,
          json: { kind: "tune", input: { video_sha256: jobInput, prompt: "a red circle on a black background", lora: "alice/kept" } },
        })
      ).status,
      201,
    );
    const stray = await put(Uint8Array.from([...GIF, 2]), "preview");

    assert.deepEqual(await r.services.blobs.collectUnreferenced(), { released: 0, versions: 0, removed: 0 }, "young blobs survive");
    assert.deepEqual(await r.services.blobs.collectUnreferenced(Date.now() + 120_000), { released: 2, versions: 0, removed: 2 });
    for (const sha of [refused, stray]) {
      assert.equal(await r.services.blobs.get(sha), undefined);
      assert.equal(await r.services.store.stat(sha), null, "its file is gone");
      assert.deepEqual(await r.services.db.select().from(blobOwners).where(eq(blobOwners.sha256, sha)), []);
    }
    for (const sha of [published, jobInput]) assert.equal((await r.call("GET", `/v1/blobs/${sha}`, { token: alice })).status, 200);
    assert.equal(
      await r.services.blobs.usage("alice"),
      (await r.services.blobs.get(published))!.size + (await r.services.blobs.get(jobInput))!.size,
      "collected bytes leave the quota",
    );
  });
});
