import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderReadme } from "./markdown.ts";

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
});
