import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { README_LIMITS, renderReadme } from "./markdown.ts";

describe("README rendering", () => {
  it("renders Markdown", () => {
    const out = renderReadme("# Orbit\n\nA *slow* [orbit](https://example.com/x).\n\n- one\n- two\n\n`code`");
    assert.match(out, /<h1>Orbit<\/h1>/);
    assert.match(out, /<em>slow<\/em>/);
    assert.match(out, /<a href="https:\/\/example.com\/x" rel="nofollow noopener noreferrer">orbit<\/a>/);
    assert.match(out, /<li>one<\/li>/);
  });

  it("leaves no markup a README could script the page with", () => {
    const hostile = [
      "<script>alert(1)</script>",
      '<img src=x onerror="alert(1)">',
      "[click](javascript:alert(1))",
      "[click](JaVaScRiPt:alert(1))",
      "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
      "![x](javascript:alert(1))",
      '<a href="javascript:alert(1)">x</a>',
      "<iframe src=//evil></iframe>",
      "<style>body{display:none}</style>",
      '[x](//evil.example/ "protocol-relative")',
    ].join("\n\n");
    const out = renderReadme(hostile);
    assert.doesNotMatch(out, /<(script|img|iframe|style)\b/i, out);
    assert.doesNotMatch(out, /href="(javascript|data|\/\/)/i, out);
    assert.doesNotMatch(out, /<[a-z][^>]*\son\w+=/i, out);
    assert.match(out, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, "raw HTML is shown as text");
  });

  it("grows with its input: a README of reference links to one long URL stays small (it rendered to 338 MB)", () => {
    const bomb = `[a]: https://x/${"é".repeat(5_000)}\n\n${"[a] ".repeat(11_000)}`;
    assert.ok(bomb.length <= 50_000);
    const out = renderReadme(bomb);
    assert.ok(out.length < 10 * bomb.length, `${out.length} characters rendered from ${bomb.length}`);
    assert.doesNotMatch(renderReadme(`[x](https://x/${"a".repeat(3_000)})`), /<a /, "an over-long URL is no link");
  });

  // Issue 26: a 50 KB table took 0.15–0.55 s to render; the work now has a ceiling whatever the text.
  const cells = (html: string) => (html.match(/<t[hd]\b/g) ?? []).length;
  const table = (cols: number, rows: number) =>
    [`|${" h |".repeat(cols)}`, `|${"---|".repeat(cols)}`, ...Array.from({ length: rows }, (_, i) => `|${` c${i} |`.repeat(cols)}`)].join("\n");

  it("spends at most 2,000 table cells on a README: a 50 KB table is cut there, the rest reads as text", () => {
    const big = table(2, 6_000).slice(0, 50_000);
    const out = renderReadme(big);
    assert.ok(cells(out) <= README_LIMITS.tableCells && cells(out) > README_LIMITS.tableCells - 4, `${cells(out)} cells`);
    assert.match(out, /<\/table>\n<p>\| c999 \| c999 \|/, "the first row past the budget opens a paragraph");
    assert.equal(cells(renderReadme(`${table(3, 10)}\n\n${table(2, 5)}`)), 3 * 11 + 2 * 6, "small tables are whole");
    // The cells are shared: a second table gets what the first left.
    assert.equal(cells(renderReadme(`${table(4, 480)}\n\n${table(4, 100)}`)), 4 * 481 + 4 * 19, "its header and 18 rows");
  });

  it("makes no table of a header wider than the cell budget (it padded every short row to its width)", () => {
    const wide = `|${"a|".repeat(5_000)}\n|${"-|".repeat(5_000)}\n${"|x\n".repeat(3_000)}`;
    assert.ok(wide.length <= 50_000);
    const out = renderReadme(wide);
    assert.equal(cells(out), 0);
    assert.ok(out.length < 2 * wide.length, `${out.length} characters`);
  });

  it("renders the first 2,000 lines as Markdown and the rest as text, saying so", () => {
    const out = renderReadme(`${"- item\n".repeat(2_500)}# After`);
    assert.equal((out.match(/<li>/g) ?? []).length, README_LIMITS.lines);
    assert.match(out, /Lines 2001–2501 are shown as text/);
    assert.match(out, /<pre>(- item\n){500}# After<\/pre>$/);
    assert.doesNotMatch(out, /<h1>/);
  });

  it("nests blocks at most 20 deep", () => {
    const out = renderReadme(`${"> ".repeat(100)}deep`);
    assert.equal((out.match(/<blockquote>/g) ?? []).length, 20);
  });
});
