import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { startRegistry } from "../node.ts";

const run = promisify(execFile);
const bin = new URL("../../bin/motion-lora.js", import.meta.url).pathname;

describe("motion-lora keys (CLI)", () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), "motion-lora-cli-"));
  });
  after(() => rm(home, { recursive: true, force: true }));

  const cli = (...args: string[]) => run(process.execPath, [bin, ...args], { env: { ...process.env, MOTION_LORA_HOME: home } });

  it("creates the first admin key in the local database, and the registry accepts it", async () => {
    const { stdout } = await cli("keys", "create", "--scope", "admin", "--json");
    const key = JSON.parse(stdout);
    assert.equal(key.owner, "admin");
    assert.deepEqual(key.scopes, ["admin"]);
    const r = await startRegistry({ home, port: 0, log: () => {} });
    try {
      const me = await fetch(`${r.url}/v1/me`, { headers: { authorization: `Bearer ${key.token}` } });
      assert.deepEqual((await me.json()).scopes, ["admin"]);
    } finally {
      await r.stop();
    }
  });

  it("prints the token alone on stdout, so TOKEN=$(motion-lora keys create …) captures just it; the note goes to stderr", async () => {
    const { stdout, stderr } = await cli("keys", "create", "--owner", "bob");
    assert.match(stdout, /^mlk_\S+\n$/);
    assert.match(stderr, /for 'bob' with scopes read,write\. The token is shown only this once/);
  });

  it("refuses an unknown scope with exit code 2 and a message naming the valid ones", async () => {
    const err = await cli("keys", "create", "--owner", "zed", "--scope", "root").catch((e: { code: number; stderr: string }) => e);
    assert.equal((err as { code: number }).code, 2);
    assert.match((err as { stderr: string }).stderr, /unknown scope 'root'; choose from read, write, runner, admin/);
  });

  it("refuses an invalid owner slug", async () => {
    const err = await cli("keys", "create", "--owner", "../x").catch((e: { code: number; stderr: string }) => e);
    assert.equal((err as { code: number }).code, 2);
    assert.match((err as { stderr: string }).stderr, /--owner/);
  });

  it("refuses a bad command line with exit code 2 before it opens the database", async () => {
    const fresh = await mkdtemp(join(tmpdir(), "motion-lora-cli-"));
    try {
      for (const argv of [
        ["keys", "create", "--bogus"],
        ["keys", "frobnicate"],
        ["keys", "revoke"],
      ]) {
        const err = await run(process.execPath, [bin, ...argv], { env: { ...process.env, MOTION_LORA_HOME: fresh } }).catch((e: { code: number }) => e);
        assert.equal((err as { code: number }).code, 2, argv.join(" "));
      }
      assert.equal(existsSync(join(fresh, "registry.db")), false, "no database was created");
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });
});
