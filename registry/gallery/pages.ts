import { html, raw } from "hono/html";
import * as z from "zod";
import type { HtmlEscapedString } from "hono/utils/html";
import type { Lora, LoraListQuery, LoraVersion, MotionCategory, TransferScore } from "../../sdk/schema/index.ts";
import { MotionCategory as Categories, FIDELITY_SCALE } from "../../sdk/schema/index.ts";
import { headsSvg } from "./heads-svg.ts";

// Every value interpolated with html`` is escaped; raw() is used only for markup built here or by
// the README renderer, which escapes a README's own HTML.

type Page = HtmlEscapedString | Promise<HtmlEscapedString>;

const CATEGORY_LABEL: Record<MotionCategory, string> = {
  "single-object": "Single object",
  "multiple-objects": "Multiple objects",
  "camera-motion": "Camera motion",
  "human-motion": "Human motion",
};

/** The frame of every gallery page: a header with search, then the content. */
export function layout(title: string, q: string, content: Page): Page {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/gallery.css">
<link rel="icon" href="/favicon.ico" type="image/png">
</head>
<body>
<header>
<a class="brand" href="/">motion-lora</a>
<form action="/" method="get" role="search"><input type="search" name="q" value="${q}" placeholder="Search motion LoRAs" aria-label="Search"><button>Search</button></form>
<a href="/docs">API</a>
</header>
<main>${content}</main>
</body>
</html>`;
}

/** A media URL for a blob a public LoRA version uses (served by the gallery without the API's rate limit). */
const media = (sha: string) => `/media/${sha}`;

export interface Card {
  lora: Lora;
  previewSha256: string | null;
  /** Its latest version's transfer score (the mean motion fidelity of its own samples). */
  transfer: TransferScore | null;
}

/** "0.62 (n = 3)": a transfer score with what it is the mean of. */
const transferText = (t: TransferScore) => `${t.motion_fidelity.toFixed(2)} (n = ${t.n})`;

/** "1 download", "0 downloads", "1,204 downloads": a count with its noun, singular only for one. */
export const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** `/` with the query it was asked with: the filters, the grid and the next page's link. */
export function listPage(cards: Card[], q: LoraListQuery, nextCursor: string | null): Page {
  const link = (change: Partial<Record<"category" | "tag" | "sort" | "cursor", string | undefined>>) => {
    const params = new URLSearchParams();
    const merged = { q: q.q, category: q.category, tag: q.tag, sort: q.sort === "newest" ? undefined : q.sort, ...change };
    for (const [k, v] of Object.entries(merged)) if (v) params.set(k, v);
    const s = params.toString();
    return s ? `/?${s}` : "/";
  };
  const filters = html`<nav class="filters" aria-label="Category">
<a href="${link({ category: undefined, cursor: undefined })}" aria-current="${String(q.category === undefined)}">All</a>
${Categories.options.map((c) => html`<a href="${link({ category: c, cursor: undefined })}" aria-current="${String(q.category === c)}">${CATEGORY_LABEL[c]}</a>`)}
<span class="muted">Sort:</span>
<a href="${link({ sort: undefined, cursor: undefined })}" aria-current="${String(q.sort === "newest")}">Newest</a>
<a href="${link({ sort: "downloads", cursor: undefined })}" aria-current="${String(q.sort === "downloads")}">Most downloaded</a>
${q.tag ? html`<a href="${link({ tag: undefined, cursor: undefined })}" aria-current="true">tag: ${q.tag} ✕</a>` : ""}
</nav>`;
  const grid =
    cards.length === 0
      ? html`<p class="empty">No motion LoRAs match. <a href="/">See them all</a>.</p>`
      : html`<ul class="grid">${cards.map((card) => cardHtml(card, (tag) => link({ tag, cursor: undefined })))}</ul>`;
  const pager = html`<div class="pager">${q.cursor ? html`<a href="${link({ cursor: undefined })}">← First page</a>` : html`<span></span>`}${
    nextCursor ? html`<a href="${link({ cursor: nextCursor })}" rel="next">Next page →</a>` : ""
  }</div>`;
  // A card's transfer score is a number on a scale the card has no room to explain.
  const legend = cards.some((c) => c.transfer)
    ? html`<p id="transfer-scale" class="muted">transfer: the mean motion fidelity of a LoRA's own samples on new prompts (${FIDELITY_SCALE}).</p>`
    : "";
  const title = q.q ? `“${q.q}” · motion LoRAs` : "Motion LoRAs";
  return layout(title, q.q ?? "", html`<h1>${title}</h1>${filters}${grid}${legend}${pager}`);
}

function cardHtml({ lora, previewSha256, transfer }: Card, tagLink: (tag: string) => string): Page {
  const href = `/loras/${lora.owner}/${lora.name}`;
  const cover = previewSha256
    ? html`<img class="clip" loading="lazy" decoding="async" width="128" height="128" src="${media(previewSha256)}" alt="${lora.title}: preview">`
    : html`<span class="muted">no preview</span>`;
  return html`<li class="card" data-lora="${lora.owner}/${lora.name}">
<a class="cover" href="${href}">${cover}</a>
<div class="body"><h2><a href="${href}">${lora.title}</a></h2>
<div class="meta">${lora.owner}/${lora.name} · ${CATEGORY_LABEL[lora.category]} · ${count(lora.downloads, "download")}${
    transfer
      ? html` · <span class="transfer" title="mean motion fidelity of its own samples on new prompts (${FIDELITY_SCALE})">transfer ${transferText(transfer)}</span>`
      : ""
  }</div>
<div>${lora.tags.map((t) => html`<a class="tag" href="${tagLink(t)}">${t}</a>`)}</div></div>
</li>`;
}

export interface LoraPageData {
  /** The registry's configured public URL (never the request's Host); null: read from $MOTION_LORA_REGISTRY. */
  origin: string | null;
  lora: Lora;
  versions: LoraVersion[];
  /** The README, already rendered safe (gallery/markdown.ts). */
  readmeHtml: string;
  /** Whether the "Try it" script is served (gallery/bundle.ts). */
  tryIt: boolean;
}

/** A new prompt for the snippets: one the model's grammar accepts, of the LoRA's kind of scene. */
export const SAMPLE_PROMPT: Record<MotionCategory, string> = {
  "single-object": "a red circle on a gradient navy background",
  "multiple-objects": "a red circle and a blue star on a black background",
  "camera-motion": "a big green square on a striped gray background",
  "human-motion": "a cyan person on a navy background",
};

/** Head scores as the runner stamps them: a row per block, a [spatial, temporal] pair per head. */
const HeadScores = z.array(z.array(z.tuple([z.number(), z.number()])).max(64)).max(64);
const text = (x: unknown) => (typeof x === "string" ? x : "–");
const pct = (x: unknown) => (typeof x === "number" ? x.toFixed(2) : "–");
const interval = (x: unknown) => (Array.isArray(x) && x.length === 3 ? `${pct(x[0])} (${pct(x[1])}…${pct(x[2])})` : "–");

/** `/loras/:owner/:name`: previews, caption, heads, benchmark, versions, README and how to use it. */
export function loraPage(d: LoraPageData): Page {
  const { lora, versions } = d;
  const latest = versions[0];
  const cfg = (latest?.tuning_config ?? {}) as Record<string, unknown>;
  const caption = typeof cfg.caption === "string" ? cfg.caption : null;
  // tuning_config comes from the uploaded file's metadata: anything but the expected shape is left out.
  const parsedScores = HeadScores.safeParse(cfg.head_scores);
  const scores = parsedScores.success ? parsedScores.data : null;
  const bench = (typeof cfg.benchmark === "object" && cfg.benchmark !== null ? cfg.benchmark : {}) as {
    file?: unknown;
    motion_fidelity?: Record<string, unknown>;
    appearance_integrity?: unknown;
    leakage?: unknown;
  };
  const ref = latest ? `${lora.owner}/${lora.name}@${latest.version}` : `${lora.owner}/${lora.name}`;
  const prompt = SAMPLE_PROMPT[lora.category];

  const previews = latest?.preview_sha256
    ? html`<figure><img class="clip" width="256" height="256" src="${media(latest.preview_sha256)}" alt="reference clip"><figcaption>The reference clip it learned${
        caption ? html`: “${caption}”` : ""
      }</figcaption></figure>`
    : html`<p class="muted">No preview yet.</p>`;
  const samples = (latest?.samples ?? []).map(
    (s) =>
      html`<figure class="sample"><img class="clip" width="256" height="256" loading="lazy" src="${media(s.preview_sha256)}" alt="a sample with a new prompt"><figcaption>Its motion on a new prompt: “${s.prompt}”${
        s.motion_fidelity === null ? "" : html`<br>motion fidelity <b class="score">${s.motion_fidelity.toFixed(2)}</b>`
      }</figcaption></figure>`,
  );
  const heads = scores
    ? html`<figure>${raw(headsSvg(scores, latest!.target_heads))}<figcaption>Head classification: a row per block, a column per head; orange heads attend across frames (temporal), blue within a frame (spatial); outlined heads carry the motion LoRA.</figcaption></figure>`
    : "";
  // This LoRA's own measurement first, then the recipe's: the two answer different questions.
  const transfer = latest?.transfer
    ? html`<p id="transfer">This LoRA's transfer score: motion fidelity <b>${transferText(latest.transfer)}</b>, the mean over its ${count(latest.transfer.n, "sample")} above (${
        latest.transfer.n === 1 ? "a new prompt, one seed" : "new prompts, one seed each"
      }), each scored against its reference clip. Measured on this LoRA's own samples, not a benchmark: it says which of those prompts its motion carried to.</p>`
    : "";
  // Every score on this page is on the same scale; negative ones need saying what they mean.
  const scale =
    latest?.transfer || latest?.samples.some((s) => s.motion_fidelity !== null) || bench?.motion_fidelity
      ? html`<p id="fidelity-scale" class="muted">Motion fidelity compares the direction each tracked point moves, frame to frame, with the reference clip's (a mean cosine, from −1 to 1): ${FIDELITY_SCALE}.</p>`
      : "";
  const stamp = bench?.motion_fidelity
    ? html`<p>Tuned with the default recipe, whose MotionBench figures are: motion fidelity ${interval(bench.motion_fidelity.all)} (ID ${interval(
        bench.motion_fidelity.id,
      )}, OOD ${interval(bench.motion_fidelity.ood)}), appearance integrity ${interval(bench.appearance_integrity)}, leakage ${pct(bench.leakage)} <span class="muted">(${
        typeof bench.file === "string" ? bench.file : ""
      })</span>: the recipe's, measured over 48 benchmark clips, not this LoRA's.</p>`
    : "";
  const benchmark = transfer || stamp ? html`<h2>How well its motion transfers</h2>${transfer}${stamp}${scale}` : "";
  const rows = versions.map(
    (v) =>
      html`<tr><td>${v.version}</td><td>${new Date(v.created_at).toISOString().slice(0, 10)}</td><td>${(v.file_size / 1024).toFixed(0)} KiB</td><td>${v.rank}</td><td>${v.stage}</td><td>${text((v.tuning_config as Record<string, unknown>).recipe)}</td><td><code title="${v.file_sha256}">${v.file_sha256.slice(0, 12)}…</code></td></tr>`,
  );
  // Without a configured URL the snippets read the one variable the CLI reads too.
  const baseUrl = d.origin === null ? "process.env.MOTION_LORA_REGISTRY" : `"${d.origin}"`;
  const shellUrl = d.origin ?? '"$MOTION_LORA_REGISTRY"';
  const snippets = html`<h2>Use it</h2>
<p>SDK (<code>@motion-lora/sdk</code>, not yet on npm: <code>npm pack -w sdk</code> in a clone of motion-lora makes the package to install):</p>
<pre><code>import { MotionLora } from "@motion-lora/sdk";
import { writeVideoFile } from "@motion-lora/sdk/node";
const client = new MotionLora({ baseUrl: ${baseUrl} }); // its key: MOTION_LORA_TOKEN, or what motion-lora login saved
const clip = await client.generate({ prompt: "${prompt}", loras: [{ ref: "${ref}", weight: 1 }] });
await writeVideoFile("out.gif", clip.frames);</code></pre>
<p>CLI (the same package installed with <code>npm install -g</code> gives the <code>motion-lora</code> command):</p>
<pre><code>motion-lora generate --registry ${shellUrl} --prompt "${prompt}" --lora ${ref}:1.0 -o out.gif
motion-lora pull --registry ${shellUrl} ${ref}</code></pre>
<p>curl:</p>
<pre><code>curl -L -o ${lora.name}.safetensors ${shellUrl}/v1/loras/${lora.owner}/${lora.name}/versions/${latest?.version ?? "latest"}/file</code></pre>`;

  const body = html`<p class="muted"><a href="/?category=${lora.category}">${CATEGORY_LABEL[lora.category]}</a> · ${lora.owner}/${lora.name} · licence ${lora.license} · ${count(lora.downloads, "download")}</p>
<h1>${lora.title}</h1>
${lora.description ? html`<p>${lora.description}</p>` : ""}
<div>${lora.tags.map((t) => html`<a class="tag" href="/?tag=${encodeURIComponent(t)}">${t}</a>`)}</div>
<div class="side">${previews}${samples}${heads}</div>
${latest && d.tryIt ? tryPanel(`${lora.owner}/${lora.name}@${latest.version}`, prompt) : ""}
${benchmark}
${snippets}
<h2>Versions</h2>
<div class="scroll-x"><table><thead><tr><th>version</th><th>published</th><th>size</th><th>rank</th><th>stage</th><th>recipe</th><th>sha256</th></tr></thead><tbody>${rows}</tbody></table></div>
${d.readmeHtml ? html`<section class="readme" id="readme">${raw(d.readmeHtml)}</section>` : ""}`;
  return layout(`${lora.title} · motion LoRA`, "", body);
}

/** Generate with this LoRA in the page (gallery/try-it.ts drives it); the API key stays in the browser. */
function tryPanel(ref: string, prompt: string): Page {
  return html`<section id="try" data-ref="${ref}" data-state="idle">
<h2>Try it</h2>
<div class="try-grid">
<label>API key <input id="try-token" type="password" autocomplete="off" placeholder="mlk_… (kept in this browser)"></label>
<label>Prompt <input id="try-prompt" type="text" value="${prompt}" autocomplete="off" spellcheck="false"></label>
<div id="try-suggestions" aria-label="words that fit next"></div>
<label>LoRA weight <input id="try-weight" type="range" min="0" max="2" step="0.1" value="1"> <output id="try-weight-value"></output></label>
<label>Sampling steps <input id="try-steps" type="number" min="1" max="100" value="20"></label>
<div><button id="try-go" type="button">Generate</button> <progress id="try-progress" max="1" value="0"></progress> <span id="try-status" role="status"></span></div>
</div>
<img id="try-clip" class="clip" width="256" height="256" alt="generated clip" hidden> <a id="try-download" hidden>Download GIF</a>
</section>
<script type="module" src="/gallery.js"></script>`;
}

/** A gallery 429: slow down, and for how long. */
export const tooManyPage = (seconds: number): Page =>
  layout(
    "Slow down · motion-lora",
    "",
    html`<h1>Too many requests</h1><p>This address has asked for many pages in the last minute; try again in ${seconds} s.</p>`,
  );

/** A gallery 404: a page, not the API's JSON. */
export const notFoundPage = (what: string): Page =>
  layout("Not found · motion-lora", "", html`<h1>Not found</h1><p>${what} was not found. <a href="/">Back to the gallery</a>.</p>`);
