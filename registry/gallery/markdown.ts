import MarkdownIt from "markdown-it";

// Raw HTML in a README is shown as text, never parsed: the one rule that keeps a README from
// injecting script, styles or event handlers into the gallery. Links and images are http(s),
// site-relative or fragments only (no javascript:, data:, vbscript:, file:).
const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
// Reference links copy one definition's URL into every use: a 50 KB README of them rendered to
// 338 MB (found in review). Without them output grows with input; a link's URL is capped too.
md.disable("reference");
const SAFE_URL = /^(https?:\/\/|\/(?!\/)|#)/i;
const MAX_URL = 2_048;
md.validateLink = (url) => url.length <= MAX_URL && SAFE_URL.test(url.trim());

const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, i, options, _env, self) => self.renderToken(tokens, i, options));
md.renderer.rules.link_open = (tokens, i, options, env, self) => {
  // Someone else's README links out: no referrer, no opener, no endorsement.
  tokens[i]!.attrSet("rel", "nofollow noopener noreferrer");
  return defaultLinkOpen(tokens, i, options, env, self);
};

// Rendered once per README text (pages are served far more often than READMEs change).
const cache = new Map<string, string>();
const CACHED = 256;

/** A LoRA's README as HTML that is safe to put in the page. */
export function renderReadme(markdown: string): string {
  const hit = cache.get(markdown);
  if (hit !== undefined) return hit;
  const html = md.render(markdown);
  if (cache.size >= CACHED) cache.delete(cache.keys().next().value!);
  cache.set(markdown, html);
  return html;
}
