import MarkdownIt from "markdown-it";

// Raw HTML in a README is shown as text, never parsed: the one rule that keeps a README from
// injecting script, styles or event handlers into the gallery. Links and images are http(s),
// site-relative or fragments only (no javascript:, data:, vbscript:, file:).
const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
const SAFE_URL = /^(https?:\/\/|\/(?!\/)|#)/i;
md.validateLink = (url) => SAFE_URL.test(url.trim());

const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, i, options, _env, self) => self.renderToken(tokens, i, options));
md.renderer.rules.link_open = (tokens, i, options, env, self) => {
  // Someone else's README links out: no referrer, no opener, no endorsement.
  tokens[i]!.attrSet("rel", "nofollow noopener noreferrer");
  return defaultLinkOpen(tokens, i, options, env, self);
};

/** A LoRA's README as HTML that is safe to put in the page. */
export const renderReadme = (markdown: string): string => md.render(markdown);
