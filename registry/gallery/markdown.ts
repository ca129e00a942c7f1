import MarkdownIt from "markdown-it";

// Raw HTML in a README is shown as text, never parsed: the one rule that keeps a README from
// injecting script, styles or event handlers into the gallery. Links and images are http(s),
// site-relative or fragments only (no javascript:, data:, vbscript:, file:).
// maxNesting 20 (CommonMark's preset; the default preset allows 100) bounds lists and quotes in quotes.
const md = new MarkdownIt({ html: false, linkify: false, typographer: false, maxNesting: 20 });
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

/**
 * What one README may cost to render. Work grows with blocks and table cells, not bytes: a 50 KB
 * table of 24k cells took 130 ms (a 5,000-column header padding every short row, 250 ms), 12k
 * one-line list items 100 ms; 2,000 cells take 3 ms and 2,000 lines of list items ~15 ms.
 */
export const README_LIMITS = { lines: 2_000, tableCells: 2_000, htmlChars: 1_000_000 } as const;

/** Bumped when the renderer's output changes: stored HTML of an older renderer is rendered again (LoraService.readmeHtml). */
export const README_RENDERER = 1;

// Tables share one cell budget per README: a table is cut off at the rows that fit (the rest reads
// as a paragraph), and a header wider than what is left is no table. The rule is only handed a
// shorter range of lines, so the budget costs one header split per table.
const tableRule = md.block.ruler.__rules__[md.block.ruler.__find__("table")]!;
const parseTable = tableRule.fn;
md.block.ruler.at(
  "table",
  (state, startLine, endLine, silent) => {
    const env = state.env as { tableCells?: number };
    const left = README_LIMITS.tableCells - (env.tableCells ?? 0);
    const header = state.src.slice(state.bMarks[startLine]! + state.tShift[startLine]!, state.eMarks[startLine]).trim();
    const columns = header.replace(/^\|/, "").replace(/\|$/, "").split("|").length;
    if (columns > left) return false;
    // The header row and the delimiter row, then as many body rows as the budget allows.
    const rows = Math.floor(left / columns) - 1;
    const found = parseTable(state, startLine, Math.min(endLine, startLine + 2 + rows), silent);
    if (found && !silent) env.tableCells = (env.tableCells ?? 0) + columns * (state.line - startLine - 1);
    return found;
  },
  { alt: tableRule.alt },
);

const escapeText = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/**
 * A LoRA's README as HTML that is safe to put in the page, at a bounded cost: rendered once when
 * the README is written and stored (LoraService), never per page view. Lines past
 * `README_LIMITS.lines` are shown as plain text after a note saying so.
 */
export function renderReadme(markdown: string): string {
  if (markdown === "") return "";
  const lines = markdown.split("\n");
  const head = lines.length > README_LIMITS.lines ? lines.slice(0, README_LIMITS.lines).join("\n") : markdown;
  const rest =
    lines.length > README_LIMITS.lines
      ? `<p class="muted">Lines ${README_LIMITS.lines + 1}–${lines.length} are shown as text: the gallery renders the first ${README_LIMITS.lines} lines of a README.</p><pre>${escapeText(lines.slice(README_LIMITS.lines).join("\n"))}</pre>`
      : "";
  const html = md.render(head, {}) + rest;
  // Link-dense Markdown grows ~9× (a 6-character link becomes 52): past the cap, the source as text.
  return html.length <= README_LIMITS.htmlChars ? html : `<pre>${escapeText(markdown)}</pre>`;
}
