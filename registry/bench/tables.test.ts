import assert from "node:assert/strict";
import { it } from "node:test";
import { markdownTables } from "./tables.ts";

it("reads every Markdown table of a results page as rows keyed by header", () => {
  const md = "# r\n\ntext\n\n| path | ms |\n| --- | --- |\n| plain | 1.5 |\n| **registry** | 2 |\n\nmore\n| a | b |\n| --- | --- |\n| x |\n";
  assert.deepEqual(markdownTables(md), [
    [
      { path: "plain", ms: "1.5" },
      { path: "**registry**", ms: "2" },
    ],
    [{ a: "x", b: "" }],
  ]);
});
