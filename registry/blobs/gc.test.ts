import assert from "node:assert/strict";
import { readdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GIF, sha256 } from "../../test/helpers/lora-file.ts";
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
    // And an abandoned temporary from an upload cut off mid-stream.
    const tmp = join(r.home, "tmp", `${orphan}.abandoned`);
    await writeFile(tmp, "partial");

    // Young files survive (an upload may be about to insert its row).
    assert.deepEqual(await r.services.blobs.collectOrphans(), { removed: 0, kept: 3 });

    const old = new Date(Date.now() - 120_000);
    for (const sha of [kept, orphan]) await utimes(join(r.home, "blobs", sha.slice(0, 2), sha.slice(2, 4), sha), old, old);
    await utimes(tmp, old, old);
    assert.deepEqual(await r.services.blobs.collectOrphans(), { removed: 2, kept: 1 });
    assert.deepEqual(await readdir(join(r.home, "tmp")), []);
    assert.equal(await r.services.store.stat(orphan), null);
    assert.equal((await r.call("GET", `/v1/blobs/${kept}`, { token: alice })).status, 200);
  });
});
