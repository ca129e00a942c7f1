import assert from "node:assert/strict";
import { sql } from "drizzle-orm";
import { after, before, describe, it } from "node:test";
import { loraFile, sha256 } from "../../test/helpers/lora-file.ts";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";

describe("publishing a version lands whole, and once", () => {
  let r: TestRegistry;
  let alice: string;
  before(async () => {
    r = await startTestRegistry();
    alice = await r.key("alice");
  });
  after(() => r.stop());

  const lora = (name: string) => r.call("POST", "/v1/loras", { token: alice, json: { name, title: name, category: "single-object" } });
  const upload = async (alpha: string) => {
    const file = loraFile({ alpha });
    const sha = await sha256(file);
    await r.call("PUT", `/v1/blobs/${sha}?kind=lora`, { token: alice, body: file as BodyInit });
    return sha;
  };
  const publish = (name: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    r.call("POST", `/v1/loras/alice/${name}/versions`, { token: alice, json: body, headers });
  const versionNumbers = async (name: string) =>
    ((await r.call("GET", `/v1/loras/alice/${name}/versions`, { token: alice })).body.data as { version: number }[]).map((v) => v.version);

  it("lists no version that 'latest' does not reach when moving latest_version fails after the insert (the crash window)", async () => {
    await lora("atomic");
    assert.equal((await publish("atomic", { file_sha256: await upload("3") })).status, 201);
    // The second statement of the publish fails, in the database itself, as a crash after the first would leave it.
    await r.services.db.run(
      sql.raw(
        "CREATE TRIGGER crash_after_version_insert BEFORE UPDATE OF latest_version ON loras WHEN NEW.name = 'atomic' BEGIN SELECT RAISE(ABORT, 'simulated crash'); END",
      ),
    );
    const second = await upload("5");
    try {
      assert.equal((await publish("atomic", { file_sha256: second })).status, 500);
    } finally {
      await r.services.db.run(sql.raw("DROP TRIGGER crash_after_version_insert"));
    }
    assert.deepEqual(await versionNumbers("atomic"), [1], "the version whose latest_version write failed is not listed");
    assert.equal((await r.call("GET", "/v1/loras/alice/atomic/versions/latest", { token: alice })).body.version, 1);
    const retried = await publish("atomic", { file_sha256: second });
    assert.equal(retried.status, 201);
    assert.equal(retried.body.version, 2);
    assert.equal((await r.call("GET", "/v1/loras/alice/atomic/versions/latest", { token: alice })).body.version, 2);
  });

  it("returns the version an Idempotency-Key published (200), and 409s the same key with another body", async () => {
    await lora("keyed");
    const file = await upload("7");
    const first = await publish("keyed", { file_sha256: file, notes: "one" }, { "idempotency-key": "pub-1" });
    assert.equal(first.status, 201);
    const again = await publish("keyed", { file_sha256: file, notes: "one" }, { "idempotency-key": "pub-1" });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    const other = await publish("keyed", { file_sha256: file, notes: "two" }, { "idempotency-key": "pub-1" });
    assert.equal(other.status, 409);
    assert.equal(other.body.error.code, "idempotency_conflict");
    assert.match(other.body.error.message, /already published version 1 of 'alice\/keyed'.*use a new key/);
    const bad = await publish("keyed", { file_sha256: file }, { "idempotency-key": "sp ace" });
    assert.equal(bad.status, 422);
    assert.deepEqual(await versionNumbers("keyed"), [1]);
  });

  it("returns the latest version for a keyless request identical to the one that published it; another body publishes anew", async () => {
    await lora("keyless");
    const file = await upload("9");
    const first = await publish("keyless", { file_sha256: file, notes: "same" });
    assert.equal(first.status, 201);
    const retry = await publish("keyless", { file_sha256: file, notes: "same" });
    assert.equal(retry.status, 200);
    assert.equal(retry.body.id, first.body.id);
    const renoted = await publish("keyless", { file_sha256: file, notes: "new notes" });
    assert.equal(renoted.status, 201);
    assert.equal(renoted.body.version, 2);
    assert.deepEqual(await versionNumbers("keyless"), [2, 1]);
  });
});
