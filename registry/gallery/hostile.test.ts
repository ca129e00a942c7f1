// The gallery under hostile tenants (issue 26): READMEs are rendered when written, never per view;
// long searches work on D1; the snippets name the configured URL whatever Host a client sends.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { loras } from "../db/schema.ts";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";
import { README_RENDERER } from "./markdown.ts";

/** A GET with a Host header of the caller's choosing (fetch will not send one). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", fail);
    req.setTimeout(10_000, () => req.destroy(new Error("timed out")));
    req.end();
  });
}

const storedReadme = async (r: TestRegistry, name: string) =>
  (await r.services.db.select({ html: loras.readmeHtml, renderer: loras.readmeRenderer }).from(loras).where(eq(loras.name, name)))[0]!;

describe("READMEs are rendered when written", () => {
  let r: TestRegistry;
  let alice: string;
  before(async () => {
    r = await startTestRegistry({ readCacheTtlMs: 0 });
    alice = await r.key("alice");
  });
  after(() => r.stop());

  it("stores the HTML at create and update, and the page serves what is stored without rendering", async () => {
    const created = await r.call("POST", "/v1/loras", {
      token: alice,
      json: { name: "stored", title: "Stored", category: "single-object", readme: "# First" },
    });
    assert.equal(created.status, 201);
    assert.deepEqual(await storedReadme(r, "stored"), { html: "<h1>First</h1>\n", renderer: README_RENDERER });
    assert.equal((await r.call("PATCH", "/v1/loras/alice/stored", { token: alice, json: { readme: "*Second*" } })).status, 200);
    assert.deepEqual(await storedReadme(r, "stored"), { html: "<p><em>Second</em></p>\n", renderer: README_RENDERER });
    // What the page shows is the stored HTML, not a render of the Markdown at view time.
    await r.services.db.update(loras).set({ readmeHtml: "<p>from the row</p>" }).where(eq(loras.name, "stored"));
    const page = await (await fetch(`${r.url}/loras/alice/stored`)).text();
    assert.match(page, /<section class="readme" id="readme"><p>from the row<\/p><\/section>/);
    assert.doesNotMatch(page, /<em>Second<\/em>/);
  });

  it("renders a row written before HTML was stored on its first view, once, and stores it", async () => {
    await r.call("POST", "/v1/loras", { token: alice, json: { name: "legacy", title: "Legacy", category: "single-object", readme: "# Old row" } });
    // A row as migration 0007 (readme_html) leaves it: no HTML, renderer 0.
    await r.services.db.update(loras).set({ readmeHtml: "", readmeRenderer: 0 }).where(eq(loras.name, "legacy"));
    const page = await (await fetch(`${r.url}/loras/alice/legacy`)).text();
    assert.match(page, /<section class="readme" id="readme"><h1>Old row<\/h1>/);
    assert.deepEqual(await storedReadme(r, "legacy"), { html: "<h1>Old row</h1>\n", renderer: README_RENDERER });
  });
});

describe("search longer than D1's 50-byte LIKE pattern", () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
    const alice = await r.key("alice");
    for (const [name, title] of [
      ["long-title", "A very slow clockwise orbit around the center, 100%_done with a bounce"],
      ["other", "A very slow clockwise orbit around the center, 100 percent done"],
    ]) {
      assert.equal((await r.call("POST", "/v1/loras", { token: alice, json: { name, title, category: "single-object" } })).status, 201);
    }
  });
  after(() => r.stop());

  // 59 bytes, with LIKE's wildcards in it: they are matched as the characters they are.
  const q = "very slow clockwise orbit around the center, 100%_done with";

  it("answers the API with the LoRAs whose text holds it", async () => {
    assert.ok(new TextEncoder().encode(q).length > 50);
    const res = await r.call("GET", `/v1/loras?q=${encodeURIComponent(q.toUpperCase())}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.data.map((l: { name: string }) => l.name),
      ["long-title"],
    );
    const longest = await r.call("GET", `/v1/loras?q=${encodeURIComponent("ö".repeat(100))}`);
    assert.equal(longest.status, 200, "100 characters, 200 bytes: the schema's longest search");
    assert.deepEqual(longest.body.data, []);
  });

  it("answers the gallery's search too", async () => {
    const res = await fetch(`${r.url}/?q=${encodeURIComponent(q)}`);
    assert.equal(res.status, 200);
    assert.deepEqual(
      [...(await res.text()).matchAll(/data-lora="([^"]+)"/g)].map((m) => m[1]),
      ["alice/long-title"],
    );
  });
});

describe("the LoRA page's snippets name the registry's configured URL", () => {
  const publish = async (r: TestRegistry) => {
    const alice = await r.key("alice");
    await r.call("POST", "/v1/loras", { token: alice, json: { name: "orbit", title: "Orbit", category: "single-object" } });
  };

  it("whatever Host header the request carries", async () => {
    const r = await startTestRegistry({ publicUrl: "https://registry.example" });
    try {
      await publish(r);
      const page = await getWithHost(`${r.url}/loras/alice/orbit`, "attacker.example");
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.body, /attacker\.example/);
      assert.match(page.body, /baseUrl: &quot;https:\/\/registry\.example&quot;/);
      assert.match(page.body, /--registry https:\/\/registry\.example --prompt/);
      assert.match(page.body, /curl -L -o orbit\.safetensors https:\/\/registry\.example\/v1\/loras\/alice\/orbit\/versions\/latest\/file/);
    } finally {
      await r.stop();
    }
  });

  it("by default: on Node the address it listens on; on a Worker without REGISTRY_URL, $MOTION_LORA_REGISTRY", async () => {
    const r = await startTestRegistry();
    try {
      await publish(r);
      const page = await getWithHost(`${r.url}/loras/alice/orbit`, "attacker.example");
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.body, /attacker\.example/);
      if (r.target === "node") assert.match(page.body, new RegExp(`--registry ${r.url} --prompt`));
      else {
        assert.match(page.body, /baseUrl: process\.env\.MOTION_LORA_REGISTRY \}/);
        assert.match(page.body, /--registry &quot;\$MOTION_LORA_REGISTRY&quot; --prompt/);
      }
    } finally {
      await r.stop();
    }
  });
});
