import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";
import { jobStandings, withQueue } from "./queue-position.ts";

describe("owners share the queue", () => {
  let r: TestRegistry;
  let alice: string;
  let bob: string;
  let runner: string;
  before(async () => {
    r = await startTestRegistry({ maxQueuedJobsPerOwner: 40, maxRunningJobsPerOwner: 3 });
    alice = await r.key("alice", ["read", "write"], 10_000);
    bob = await r.key("bob");
    runner = await r.key("runner", ["runner"], 10_000);
  });
  after(() => r.stop());

  const create = (token: string) => r.call("POST", "/v1/jobs", { token, json: { kind: "generate", input: { prompt: "a red circle on a black background" } } });
  const claim = () => r.call("POST", "/v1/runner/claim", { token: runner, json: { runner_id: "r1" } });
  const finish = (c: { body: { job: { id: string }; lease_token: string } }) =>
    r.call("POST", `/v1/jobs/${c.body.job.id}/fail`, {
      token: runner,
      json: { lease_token: c.body.lease_token, error: { code: "runner_error", message: "done" } },
    });

  it("refuses an owner's job over its queued cap (429 queue_full), not another owner's", async () => {
    for (let i = 0; i < 40; i++) assert.equal((await create(alice)).status, 201);
    const over = await create(alice);
    assert.equal(over.status, 429);
    assert.equal(over.body.error.code, "queue_full");
    assert.match(over.body.error.message, /40 jobs queued/);
    assert.equal(over.headers.get("retry-after"), "30");
    assert.equal((await create(bob)).status, 201, "the cap is per owner");
  });

  it("claims another owner's single job second, not after the backlog (one runner finishing each job)", async () => {
    const owners: string[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await claim();
      owners.push(c.body.job.owner);
      await finish(c);
    }
    assert.deepEqual(owners, ["alice", "bob", "alice", "alice"]);
  });

  it("interleaves owners among running jobs and holds an owner at its running cap", async () => {
    const bobs = [await create(bob), await create(bob)];
    for (const b of bobs) assert.equal(b.status, 201);
    const held = [];
    for (let i = 0; i < 5; i++) held.push(await claim());
    // The owner with fewer running jobs goes first; ties to the one served least recently.
    assert.deepEqual(
      held.map((c) => c.body.job.owner),
      ["bob", "alice", "bob", "alice", "alice"],
    );
    // Alice holds 3 (her cap) and bob has nothing queued: her 33 queued jobs wait.
    assert.equal((await claim()).status, 204);
    await finish(held[1]!);
    const next = await claim();
    assert.equal(next.body.job.owner, "alice", "a finished job makes room for the owner's next");
    for (const c of [...held.filter((_, i) => i !== 1), next]) await finish(c);
  });

  it("gives a job claimed since its caller read it no place in line (null, not 0), as a reply racing a runner's claim reads it", async () => {
    const job = await create(bob);
    // A runner claims it between the creation's insert and the reply's read of the queue.
    const c = await claim();
    assert.equal(c.body.job.id, job.body.id);
    const [shown] = await withQueue(r.services.db, [{ id: job.body.id, status: "queued" as const }], null);
    assert.equal(shown?.queue, null);
    // The streams' shared poll watches running jobs too.
    assert.equal((await jobStandings(r.services.db, [job.body.id], null)).get(job.body.id)?.queue, null);
    await finish(c);
  });
});
