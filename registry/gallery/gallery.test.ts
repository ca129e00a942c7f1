// The gallery in a real browser (Debian's Chromium through playwright-core) against a real registry:
// browse, filter, search, open a card, a private LoRA nowhere, a hostile README inert.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { MotionLora } from "../../sdk/client/client.ts";
import { decodePng } from "../../sdk/video/png-decode.ts";
import { loraFile } from "../../test/helpers/lora-file.ts";
import { chromiumPath, launchChromium, withoutChromium } from "../../test/helpers/browser.ts";
import type { Page } from "playwright-core";
import { cli } from "../../test/helpers/processes.ts";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";

const clip = (name: string) => readFile(new URL(`../../examples/clips/${name}`, import.meta.url));

const HOSTILE_README = [
  "# Orbit\n\nA slow orbit, *clockwise*. Works best at weight 1.",
  "<script>window.pwned = 'script'</script>",
  `<img src="x" onerror="window.pwned = 'onerror'">`,
  "[a link](javascript:window.pwned='link')",
  "[another](data:text/html,<script>window.pwned='data'</script>)",
  "<style>body{display:none}</style>",
].join("\n\n");

let r: TestRegistry;
let alice: MotionLora;

/** Publishes a LoRA with one version whose preview is a real clip GIF and whose tuning config names its caption and head scores. */
async function publish(
  client: MotionLora,
  name: string,
  o: { category: "single-object" | "camera-motion" | "human-motion"; tags: string[]; gif: string; readme?: string; visibility?: "private" },
) {
  await client.loras.create({
    name,
    title: `${name[0]!.toUpperCase()}${name.slice(1)} motion`,
    category: o.category,
    tags: o.tags,
    readme: o.readme ?? "",
    visibility: o.visibility ?? "public",
  });
  const scores = Array.from({ length: 6 }, (_, b) => Array.from({ length: 8 }, (_, h) => [0.3 + 0.05 * h, 0.2 + 0.04 * b] as [number, number]));
  const tuning = {
    caption: "a white diamond on a striped black background",
    head_scores: scores,
    recipe: "default",
    benchmark: { file: "x.md", motion_fidelity: { all: [0.56, 0.51, 0.6] } },
  };
  const file = await client.blobs.upload(loraFile({ tuning_config: JSON.stringify(tuning) }), "lora");
  const preview = await client.blobs.upload(new Uint8Array(await clip(o.gif)), "preview");
  await client.versions.create(`${(await client.me()).owner}/${name}`, { file_sha256: file.sha256, preview_sha256: preview.sha256 });
}

before(async () => {
  r = await startTestRegistry();
  alice = new MotionLora({ baseUrl: r.url, apiKey: await r.key("alice", ["read", "write"]) });
  const bob = new MotionLora({ baseUrl: r.url, apiKey: await r.key("bob", ["read", "write"]) });
  await publish(alice, "orbit", { category: "single-object", tags: ["orbit", "slow"], gif: "single-object-1.gif", readme: HOSTILE_README });
  await publish(alice, "pan", { category: "camera-motion", tags: ["pan"], gif: "camera-motion-1.gif" });
  await publish(alice, "walk", { category: "human-motion", tags: ["walk"], gif: "human-motion-1.gif" });
  await publish(bob, "secret", { category: "single-object", tags: ["orbit"], gif: "multiple-objects-1.gif", visibility: "private" });
  await publishScored();
});

/** The three samples a runner scored, as prompt and motion fidelity (their GIFs are bundled example clips). */
const SCORED = [
  { prompt: "a red circle on a navy background", motion_fidelity: 0.81, gif: "single-object-2.gif" },
  { prompt: "a big cyan star on a checkered maroon background", motion_fidelity: 0.12, gif: "multiple-objects-2.gif" },
  { prompt: "a small green square on a gradient gray background", motion_fidelity: 0.55, gif: "camera-motion-2.gif" },
];

/** alice/spin (or `name`), published the way a tune job's result is (the runner's scored samples go through the publisher's job path). */
async function publishScored(name = "spin", scored = SCORED) {
  const file = await alice.blobs.upload(
    loraFile({ tuning_config: JSON.stringify({ recipe: "default", benchmark: { file: "m.md", motion_fidelity: { all: [0.69, 0.65, 0.73] } } }) }),
    "lora",
  );
  const samples = [];
  for (const s of scored)
    samples.push({
      prompt: s.prompt,
      motion_fidelity: s.motion_fidelity,
      preview_sha256: (await alice.blobs.upload(new Uint8Array(await clip(s.gif)), "preview")).sha256,
    });
  await alice.loras.create({ name, title: `${name[0]!.toUpperCase()}${name.slice(1)} motion`, category: "single-object" });
  const lora = await r.services.publisher.targetForJob("alice", "alice", name);
  await r.services.publisher.publishTo(lora, { file_sha256: file.sha256, notes: "", samples }, { jobId: `job_test_${name}` });
}

/** Collects what a page's Content-Security-Policy refused: the securitypolicyviolation events and the console's reports of them. */
async function watchCsp(tab: Page) {
  const refused: string[] = [];
  await tab.exposeFunction("reportCspViolation", (v: string) => refused.push(v));
  await tab.addInitScript(() =>
    document.addEventListener("securitypolicyviolation", (e) =>
      (window as unknown as { reportCspViolation: (v: string) => void }).reportCspViolation(
        `${e.effectiveDirective} refused ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`,
      ),
    ),
  );
  tab.on("console", (m) => {
    if (/Content Security Policy|Refused to|'script-src' was not explicitly set/.test(m.text())) refused.push(`console: ${m.text()}`);
  });
  return refused;
}
after(() => r?.stop());

describe("the gallery over HTTP", () => {
  it("serves HTML at / with a card per public LoRA, and pages through a long catalog", async () => {
    const home = await fetch(`${r.url}/`);
    assert.equal(home.status, 200);
    assert.match(home.headers.get("content-type")!, /text\/html/);
    assert.match(home.headers.get("content-security-policy")!, /object-src 'none'/);
    const page = await home.text();
    assert.deepEqual([...page.matchAll(/data-lora="([^"]+)"/g)].map((m) => m[1]).sort(), ["alice/orbit", "alice/pan", "alice/spin", "alice/walk"]);
    for (let i = 0; i < 24; i++) await alice.loras.create({ name: `filler-${i}`, title: `Filler ${i}`, category: "multiple-objects" });
    const first = await (await fetch(`${r.url}/`)).text();
    assert.equal([...first.matchAll(/data-lora=/g)].length, 24);
    const next = /href="([^"]+)" rel="next"/.exec(first)?.[1]?.replaceAll("&amp;", "&");
    assert.ok(next, "a next-page link");
    const second = await (await fetch(`${r.url}${next}`)).text();
    assert.equal([...second.matchAll(/data-lora=/g)].length, 4);
    for (let i = 0; i < 24; i++) await alice.loras.delete(`alice/filler-${i}`);
  });

  it("shows a LoRA's samples with their prompts and scores, and its transfer score (measured on its own samples) beside the recipe's MotionBench figures", async () => {
    const page = await (await fetch(`${r.url}/loras/alice/spin`)).text();
    const figures = [...page.matchAll(/<figure class="sample">.*?src="\/media\/([0-9a-f]{64})".*?“([^”]+)”<br>motion fidelity <b class="score">([^<]+)<\/b>/g)];
    assert.deepEqual(
      figures.map((m) => [m[2], m[3]]),
      SCORED.map((s) => [s.prompt, s.motion_fidelity.toFixed(2)]),
    );
    for (const [, sha] of figures) assert.equal((await fetch(`${r.url}/media/${sha}`)).headers.get("content-type"), "image/gif");
    const mean = (0.81 + 0.12 + 0.55) / 3;
    const transfer = /<p id="transfer">(.*?)<\/p>\s*<p>(.*?)<\/p>/s.exec(page);
    assert.ok(transfer, "the transfer score, then the recipe's stamp");
    assert.match(transfer[1]!, new RegExp(`motion fidelity <b>${mean.toFixed(2)} \\(n = 3\\)</b>`));
    assert.match(transfer[1]!, /Measured on this LoRA's own samples, not a benchmark/);
    assert.match(
      transfer[2]!,
      /MotionBench figures are: motion fidelity 0\.69 \(0\.65…0\.73\).*the recipe's, measured over 48 benchmark clips, not this LoRA's/,
    );
    const card = /<li class="card" data-lora="alice\/spin">.*?<\/li>/s.exec(await (await fetch(`${r.url}/`)).text())![0];
    assert.match(card, new RegExp(`transfer ${mean.toFixed(2)} \\(n = 3\\)`), "the card shows it too");
    const orbit = await (await fetch(`${r.url}/loras/alice/orbit`)).text();
    assert.doesNotMatch(orbit, /id="transfer"/, "a LoRA without scored samples claims no score");
  });

  it("says how to use a LoRA with the motion-lora command the SDK installs, never `npx motion-lora` (npm's package of that name is not ours)", async () => {
    const page = await (await fetch(`${r.url}/loras/alice/pan`)).text();
    assert.doesNotMatch(page, /npx motion-lora/);
    assert.doesNotMatch(page, /npm install (-g )?@motion-lora\/sdk/, "not on npm yet: the page says how to make the package");
    assert.match(page, /<code>npm pack -w sdk<\/code> in a clone of motion-lora/);
    const cli = /<pre><code>(motion-lora generate[^<]*)<\/code><\/pre>/.exec(page)?.[1]?.replaceAll("&quot;", '"');
    assert.ok(cli, "a CLI snippet");
    // The registry's public URL: on Node the address it listens on; a Worker without REGISTRY_URL has none, so the snippet reads the variable.
    const url = r.target === "node" ? r.url : '"$MOTION_LORA_REGISTRY"';
    assert.deepEqual(cli.split("\n"), [
      `motion-lora generate --registry ${url} --prompt "a big green square on a striped gray background" --lora alice/pan@1:1.0 -o out.gif`,
      `motion-lora pull --registry ${url} alice/pan@1`,
    ]);
  });

  it("counts in words that agree with the number: 1 download, 2 downloads, 0 downloads; 1 sample", async () => {
    /** alice/walk's card's line, once it says `n` (a page of the catalog may be a cache TTL, 1 s, behind a download). */
    const card = async (n: number) => {
      let meta = "";
      for (let i = 0; i < 40 && !meta.includes(`${n} download`); i++) {
        if (i > 0) await new Promise((ok) => setTimeout(ok, 100));
        meta = /data-lora="alice\/walk">.*?<div class="meta">(.*?)<\/div>/s.exec(await (await fetch(`${r.url}/`)).text())![1]!;
      }
      return meta;
    };
    assert.match(await card(0), / · 0 downloads$/);
    await alice.versions.download("alice/walk");
    assert.match(await card(1), / · 1 download$/);
    assert.match(await (await fetch(`${r.url}/loras/alice/walk`)).text(), /licence [^·]+ · 1 download<\/p>/);
    await alice.versions.download("alice/walk");
    assert.match(await card(2), / · 2 downloads$/);
    await publishScored("once", [{ prompt: "a red circle on a navy background", motion_fidelity: 0.4, gif: "single-object-2.gif" }]);
    try {
      const page = await (await fetch(`${r.url}/loras/alice/once`)).text();
      assert.match(page, /the mean over its 1 sample above \(a new prompt, one seed\)/);
    } finally {
      await alice.loras.delete("alice/once");
    }
  });

  it("says what a score below 0 means wherever motion fidelity's scale is explained: moving against the reference's motion", async () => {
    await publishScored("backwards", [{ prompt: "a red circle on a navy background", motion_fidelity: -0.7, gif: "single-object-2.gif" }]);
    try {
      const page = await (await fetch(`${r.url}/loras/alice/backwards`)).text();
      assert.match(page, /motion fidelity <b>-0\.70 \(n = 1\)<\/b>/);
      const scale = /<p id="fidelity-scale"[^>]*>(.*?)<\/p>/s.exec(page)?.[1];
      assert.ok(scale, "the transfer section explains the scale");
      assert.match(scale, /from −1 to 1\): 1: the same motion, 0: none, below 0: moves against the reference(&#39;|')s motion/);
      const list = await (await fetch(`${r.url}/`)).text();
      assert.match(
        /<li class="card" data-lora="alice\/backwards">.*?<\/li>/s.exec(list)![0],
        /title="mean motion fidelity of its own samples on new prompts \([^"]*below 0: moves against the reference(&#39;|')s motion[^"]*\)">transfer -0\.70 \(n = 1\)/,
      );
      assert.match(list, /<p id="transfer-scale"[^>]*>transfer: the mean motion fidelity [^<]*below 0: moves against the reference(&#39;|')s motion/);
      const unscored = await (await fetch(`${r.url}/loras/alice/orbit`)).text();
      assert.match(unscored, /id="fidelity-scale"/, "the recipe's MotionBench figures are motion fidelity too");
    } finally {
      await alice.loras.delete("alice/backwards");
    }
  });

  it("serves a site icon at /favicon.ico that browsers are pointed to", async () => {
    const res = await fetch(`${r.url}/favicon.ico`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "image/png");
    const png = await decodePng(new Uint8Array(await res.arrayBuffer()));
    assert.deepEqual([png.width, png.height], [32, 32]);
    assert.match(await (await fetch(`${r.url}/`)).text(), /<link rel="icon" href="\/favicon.ico"/);
  });

  it("renders a page whatever a LoRA file's tuning config holds (it comes from the uploader)", async () => {
    await alice.loras.create({ name: "odd", title: "Odd", category: "single-object" });
    const tuning = {
      head_scores: [[["<b>", "<i>"]]],
      benchmark: { file: { isEscaped: true, callbacks: [1] }, motion_fidelity: { all: [1, 0, 2] } },
      recipe: { toString: "x" },
    };
    const file = await alice.blobs.upload(loraFile({ alpha: "7", tuning_config: JSON.stringify(tuning) }), "lora");
    await alice.versions.create("alice/odd", { file_sha256: file.sha256 });
    const res = await fetch(`${r.url}/loras/alice/odd`);
    assert.equal(res.status, 200);
    const page = await res.text();
    assert.doesNotMatch(page, /<b>|<svg/, "no heat map from scores that are not numbers");
    await alice.loras.delete("alice/odd");
  });

  it("serves previews of public versions as cacheable images, and nothing of a private one", async () => {
    const page = await (await fetch(`${r.url}/loras/alice/orbit`)).text();
    const src = /<img class="clip"[^>]* src="([^"]+)"/.exec(page)![1]!;
    const img = await fetch(`${r.url}${src}`);
    assert.equal(img.status, 200);
    assert.equal(img.headers.get("content-type"), "image/gif");
    assert.match(img.headers.get("cache-control")!, /^public, max-age=300$/, "cached briefly: a LoRA made private leaves caches soon");
    const secret = (await new MotionLora({ baseUrl: r.url, apiKey: await r.key("bob2", ["read"]) }).loras.page()).data;
    assert.ok(!secret.some((l) => l.name === "secret"));
    assert.equal((await fetch(`${r.url}/loras/bob/secret`)).status, 404);
    const bobsPreview = await r.services.loras.version({ keyId: "t", owner: "bob", scopes: ["read"], rateLimitPerMinute: 1e9 }, "bob", "secret", "latest");
    assert.equal((await fetch(`${r.url}/media/${bobsPreview.row.previewSha256}`)).status, 404, "a private version's preview is not served");
  });
});

describe("the gallery's rate limit", () => {
  it("answers a client address over its per-minute budget with a 429 page and Retry-After, and the API is not spent by it", async () => {
    const small = await startTestRegistry({ galleryRateLimitPerMinute: 3 });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await fetch(`${small.url}/`)).status);
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      const res = await fetch(`${small.url}/media/${"a".repeat(64)}`);
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get("retry-after")) > 0);
      assert.match(await res.text(), /Too many requests/);
      assert.equal((await small.call("GET", "/v1/model")).status, 200, "the API's own budget is separate");
    } finally {
      await small.stop();
    }
  });
});

/** alice/pan's page in a new tab, once Try it has its grammar (from GET /v1/model, after the page loads), with the page's errors collected. */
async function openTryIt(browser: Awaited<ReturnType<typeof launchChromium>>) {
  const tab = await browser.newPage();
  const errors: string[] = [];
  tab.on("pageerror", (e) => errors.push(String(e)));
  await tab.goto(`${r.url}/loras/alice/pan`);
  await tab.fill("#try-prompt", "");
  await tab.waitForSelector("#try-suggestions button");
  return {
    tab,
    errors,
    state: () => tab.getAttribute("#try", "data-state"),
    statusText: async () => (await tab.textContent("#try-status"))!,
  };
}

describe("the gallery in Chromium", {
  skip: withoutChromium,
}, () => {
  it("browses, filters, searches, opens a card, and renders a hostile README inert", async () => {
    assert.ok(chromiumPath, "CI must have Chromium");
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage({ viewport: { width: 1100, height: 800 } });
      const errors: string[] = [];
      tab.on("pageerror", (e) => errors.push(String(e)));
      tab.on("dialog", (d) => errors.push(`dialog: ${d.message()}`));
      const cards = () => tab.$$eval("[data-lora]", (els) => els.map((e) => e.getAttribute("data-lora")).sort());

      await tab.goto(`${r.url}/`);
      assert.deepEqual(await cards(), ["alice/orbit", "alice/pan", "alice/spin", "alice/walk"], "public LoRAs only");
      await tab.waitForFunction(() => [...document.querySelectorAll("img.clip")].every((i) => (i as HTMLImageElement).complete));
      assert.ok(await tab.$$eval("img.clip", (imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0)), "the previews decode");

      await tab.click("text=Camera motion");
      assert.deepEqual(await cards(), ["alice/pan"]);
      await tab.fill("input[type=search]", "orbit");
      await tab.press("input[type=search]", "Enter");
      await tab.waitForURL(/q=orbit/);
      assert.deepEqual(await cards(), ["alice/orbit"], "the private LoRA tagged orbit stays hidden");
      await tab.goto(`${r.url}/`);
      await tab.click("a.tag:text('walk')");
      assert.deepEqual(await cards(), ["alice/walk"]);

      await tab.goto(`${r.url}/`);
      await tab.click("[data-lora='alice/orbit'] h2 a");
      await tab.waitForURL(/\/loras\/alice\/orbit$/);
      assert.equal(await tab.textContent("h1"), "Orbit motion");
      assert.match((await tab.textContent("main"))!, /a white diamond on a striped black background/, "the caption it was tuned on");
      assert.equal(await tab.$$eval("svg rect", (r) => r.length), 48, "the head heat map: 6 blocks × 8 heads");
      assert.match((await tab.textContent("pre"))!, /ref: "alice\/orbit@1"/);
      assert.equal(await tab.textContent("#readme h1"), "Orbit");
      await tab.click("#readme >> text=a link").catch(() => {});
      await tab.click("#readme >> text=another").catch(() => {});
      assert.equal(await tab.evaluate(() => (window as { pwned?: string }).pwned), undefined, "no README markup ran");
      assert.equal(await tab.$$eval("#readme script, #readme img, #readme style", (e) => e.length), 0);
      assert.ok(await tab.isVisible("body"), "the README's style did not hide the page");

      await tab.goto(`${r.url}/loras/bob/secret`);
      assert.equal(await tab.textContent("h1"), "Not found");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  it("fits a phone's width: no page scrolls sideways at 375 px", async () => {
    assert.ok(chromiumPath, "CI must have Chromium");
    const browser = await launchChromium();
    try {
      // Not isMobile: a mobile viewport widens itself to the content, which would hide the overflow this looks for.
      const tab = await browser.newPage({ viewport: { width: 375, height: 800 } });
      for (const path of ["/", "/loras/alice/spin", "/loras/alice/orbit", "/loras/bob/secret"]) {
        await tab.goto(`${r.url}${path}`);
        const { scroll, inner } = await tab.evaluate(() => ({ scroll: document.scrollingElement!.scrollWidth, inner: window.innerWidth }));
        assert.ok(scroll <= inner, `${path} is ${scroll} px wide in a ${inner} px window`);
      }
    } finally {
      await browser.close();
    }
  });

  it("checks the prompt in Try it as it is typed: a wrong word at once, no error for a word half typed, an old error cleared when the prompt fits", async () => {
    assert.ok(chromiumPath, "CI must have Chromium");
    const browser = await launchChromium();
    try {
      const { tab, errors, state, statusText } = await openTryIt(browser);
      await tab.fill("#try-prompt", "a big green sq");
      assert.equal(await state(), "idle", "a word being typed is no error");
      await tab.fill("#try-prompt", "a big green sqaure ");
      assert.equal(await state(), "error", "a finished word the model does not know is shown at once");
      assert.match(await statusText(), /'sqaure' \(word 4; did you mean 'square'\?\)/);
      await tab.fill("#try-prompt", "a big green square on a");
      assert.equal(await state(), "idle", "words still missing at the end are no error; the old one is cleared");
      assert.equal(await statusText(), "");
      await tab.fill("#try-prompt", "a big green square on a white background");
      await tab.click("#try-go");
      assert.equal(await state(), "error", "Generate refuses it too, before any job");
      await tab.fill("#try-prompt", "An orange cross on a plain grey background.");
      assert.equal(await state(), "idle", "natural English the model reads fits");
      assert.equal(await statusText(), "the prompt fits");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  it("says a prompt that ends too soon in Try it, with the registry's own message, once it is finished (a full stop, leaving the field, Generate)", async () => {
    assert.ok(chromiumPath, "CI must have Chromium");
    const token = await r.key("erin");
    /** What the registry answers for `prompt` (422 prompt_does_not_fit), without its field name and pointer to `motion-lora vocab`. */
    const refusal = async (prompt: string) => {
      const res = await r.call("POST", "/v1/jobs", { token, json: { kind: "generate", input: { prompt } } });
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, "prompt_does_not_fit");
      return (res.body.error.message as string).replace(/^[\w.]+: /, "").replace(/ \(`motion-lora vocab` shows the grammar\)$/, "");
    };
    const browser = await launchChromium();
    try {
      const { tab, errors, state, statusText } = await openTryIt(browser);

      await tab.fill("#try-prompt", "an orange cross.");
      assert.equal(await state(), "error", "a full stop ends the prompt: what it lacks is said at once");
      const message = await refusal("an orange cross.");
      assert.match(message, /^the prompt ends too soon: after 'an orange cross' the model expects 'and'/);
      assert.equal(await statusText(), message, "the registry's own words");
      assert.equal(await tab.getAttribute("#try-prompt", "aria-invalid"), "true");

      await tab.fill("#try-prompt", "an orange cross");
      assert.equal(await state(), "idle", "still being written: no error yet, and the old one is cleared");
      await tab.press("#try-prompt", "Tab");
      assert.equal(await state(), "error", "leaving the field finishes it");
      assert.equal(await statusText(), await refusal("an orange cross"));

      await tab.fill("#try-prompt", "an orange cross on a");
      await tab.press("#try-prompt", "Enter");
      assert.equal(await statusText(), await refusal("an orange cross on a"), "so does Enter");

      await tab.fill("#try-prompt", "an orange cross on a plain grey background.");
      assert.equal(await state(), "idle");
      assert.equal(await statusText(), "the prompt fits", "cleared once the prompt fits");
      assert.equal(await tab.getAttribute("#try-prompt", "aria-invalid"), "false");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  it("runs the gallery, a LoRA's page and Try it with no Content-Security-Policy violation", async () => {
    assert.ok(chromiumPath, "CI must have Chromium");
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      const refused = await watchCsp(tab);
      const errors: string[] = [];
      tab.on("pageerror", (e) => errors.push(String(e)));
      for (const path of ["/", "/?category=camera-motion", "/loras/alice/spin", "/loras/alice/orbit", "/loras/bob/secret"]) {
        await tab.goto(`${r.url}${path}`);
        await tab.waitForLoadState("networkidle");
      }
      await tab.goto(`${r.url}/loras/alice/pan`);
      // The grammar arrives from GET /v1/model and is parsed (zod's first parse in the page).
      await tab.fill("#try-prompt", "a big green square on a ");
      await tab.waitForSelector("#try-suggestions button");
      await tab.click("#try-suggestions button:text('striped')");
      await tab.fill("#try-prompt", "a big green square on a white background.");
      await tab.click("#try-go");
      assert.equal(await tab.getAttribute("#try", "data-state"), "error");
      // A job from the page, streamed while it waits: this registry starts no runner, and the page says so.
      const frank = await r.key("frank");
      await tab.fill("#try-token", frank);
      await tab.fill("#try-prompt", "a big green square on a striped gray background");
      await tab.click("#try-go");
      await tab.waitForFunction(() => document.getElementById("try-status")?.textContent?.startsWith("queued,"));
      assert.match((await tab.textContent("#try-status")) ?? "", /^queued, next; no runner is connected: it waits until the registry's operator starts one$/);
      const [job] = (await r.call("GET", "/v1/jobs", { token: frank })).body.data as { id: string }[];
      assert.equal((await r.call("POST", `/v1/jobs/${job!.id}/cancel`, { token: frank })).status, 200);
      await tab.waitForSelector("#try[data-state=error]");
      await tab.waitForLoadState("networkidle");
      assert.deepEqual(refused, [], "nothing the page needs is refused by its CSP");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  it("generates with the LoRA from its page: grammar words offered, live progress, the clip plays and downloads", async () => {
    assert.ok(chromiumPath, "CI must have Chromium");
    const runner = cli(["runner", "start", "--registry", r.url, "--cache", `${r.home}/runner-cache`], { MOTION_LORA_TOKEN: await r.key("runner", ["runner"]) });
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const refused = await watchCsp(tab);
      const errors: string[] = [];
      tab.on("pageerror", (e) => errors.push(String(e)));
      await tab.goto(`${r.url}/loras/alice/pan`);
      await tab.fill("#try-prompt", "a big green square on a ");
      await tab.waitForSelector("#try-suggestions button");
      const offered = await tab.$$eval("#try-suggestions button", (b) => b.map((x) => x.textContent));
      assert.ok(offered.includes("navy") && offered.includes("striped") && !offered.includes("white"), `offered: ${offered}`);
      await tab.click("#try-suggestions button:text('striped')");
      await tab.fill("#try-prompt", "a big green square on a plain white background");
      await tab.click("#try-go");
      assert.equal(await tab.getAttribute("#try", "data-state"), "error");
      assert.match(
        (await tab.textContent("#try-status"))!,
        /'white' \(word 8\) does not fit after 'a big green square on a plain'/,
        "checked in the page, before any job",
      );
      const carol = await r.key("carol", ["read", "write"]);
      await tab.fill("#try-token", carol);
      await tab.fill("#try-prompt", "a big green square on a striped gray background");
      await tab.fill("#try-steps", "3");
      await tab.$eval("#try-weight", (el) => {
        (el as HTMLInputElement).value = "0.8";
        el.dispatchEvent(new Event("input"));
      });
      await tab.click("#try-go");
      await tab.waitForSelector("#try:not([data-state=running]):not([data-state=idle])", { timeout: 120_000 });
      assert.equal(await tab.getAttribute("#try", "data-state"), "done", `${await tab.textContent("#try-status")} ${errors.join(" ")}`);
      assert.equal(await tab.evaluate(() => (document.getElementById("try-clip") as HTMLImageElement).naturalWidth), 256, "the GIF plays in place");
      assert.match((await tab.getAttribute("#try-download", "download"))!, /alice-pan-1\.gif/);
      const jobs = (await r.call("GET", "/v1/jobs", { token: carol })).body.data as {
        input: { loras: { ref: string; weight: number }[]; options: { steps: number } };
      }[];
      assert.deepEqual(jobs[0]!.input.loras, [{ ref: "alice/pan@1", weight: 0.8 }]);
      assert.equal(await tab.evaluate(() => localStorage.getItem("motion-lora:token")?.startsWith("mlk_")), true, "the key stays in this browser");
      assert.deepEqual(refused, [], "a job run from the page breaks no CSP rule either");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      runner.child.kill("SIGTERM");
      await runner.exited;
    }
  });
});
