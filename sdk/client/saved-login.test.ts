// `new MotionLora()` in Node uses what `motion-lora login` saved, and sends its token only to the
// registry it was saved for: checked against real HTTP servers on loopback that record each request.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MotionLora } from "./client.ts";

/** A server that answers /v1/me and records the Authorization header of each request. */
async function recorder() {
  const seen: (string | undefined)[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ owner: null, scopes: [], key_id: null }));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

let dir = "";
let saved: Awaited<ReturnType<typeof recorder>>;
let other: Awaited<ReturnType<typeof recorder>>;
const keep = {
  XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME,
  MOTION_LORA_REGISTRY: process.env.MOTION_LORA_REGISTRY,
  MOTION_LORA_TOKEN: process.env.MOTION_LORA_TOKEN,
};

before(async () => {
  [saved, other] = await Promise.all([recorder(), recorder()]);
  dir = await mkdtemp(join(tmpdir(), "motion-lora-login-"));
  await mkdir(join(dir, "motion-lora"));
  // What `motion-lora login` writes (sdk/cli/login.ts).
  await writeFile(join(dir, "motion-lora", "config.json"), JSON.stringify({ registry: saved.url, token: "mlk_saved" }));
  process.env.XDG_CONFIG_HOME = dir;
  delete process.env.MOTION_LORA_REGISTRY;
  delete process.env.MOTION_LORA_TOKEN;
});

after(async () => {
  for (const [k, v] of Object.entries(keep)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  saved.server.close();
  other.server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the CLI's saved login", () => {
  it("new MotionLora() with no options uses the saved registry and token", async () => {
    const client = new MotionLora({ maxRetries: 0 });
    assert.equal(client.http.baseUrl, saved.url);
    await client.me();
    assert.equal(saved.seen.at(-1), "Bearer mlk_saved");
  });

  it("sends the saved token to no other registry", async () => {
    await new MotionLora({ baseUrl: other.url, maxRetries: 0 }).me();
    assert.equal(other.seen.at(-1), undefined, "anonymous, not the token saved for another registry");
    process.env.MOTION_LORA_REGISTRY = other.url;
    try {
      await new MotionLora({ maxRetries: 0 }).me();
      assert.equal(other.seen.at(-1), undefined);
    } finally {
      delete process.env.MOTION_LORA_REGISTRY;
    }
  });

  it("an apiKey or MOTION_LORA_TOKEN wins over the saved token", async () => {
    await new MotionLora({ apiKey: "mlk_given", maxRetries: 0 }).me();
    assert.equal(saved.seen.at(-1), "Bearer mlk_given");
    process.env.MOTION_LORA_TOKEN = "mlk_env";
    try {
      await new MotionLora({ maxRetries: 0 }).me();
      assert.equal(saved.seen.at(-1), "Bearer mlk_env");
    } finally {
      delete process.env.MOTION_LORA_TOKEN;
    }
  });
});
