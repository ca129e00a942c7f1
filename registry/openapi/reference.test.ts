// The API reference in a real browser: Swagger UI, served by the registry itself, renders every
// operation, fetches nothing from another origin, and its try-it panel calls the registry.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { chromiumPath, launchChromium, withoutChromium } from "../../test/helpers/browser.ts";
import { startTestRegistry, type TestRegistry } from "../../test/helpers/registry.ts";

let r: TestRegistry;
before(async () => {
  r = await startTestRegistry();
});
after(() => r?.stop());

describe("the API reference at /docs", {
  skip: withoutChromium,
}, () => {
  it("renders every operation from the registry alone and tries one out", async () => {
    assert.ok(chromiumPath, "CI must have Chromium");
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      const foreign: string[] = [];
      const errors: string[] = [];
      tab.on("request", (req) => {
        if (!req.url().startsWith(r.url) && !req.url().startsWith("data:")) foreign.push(req.url());
      });
      tab.on("pageerror", (e) => errors.push(String(e)));
      await tab.goto(`${r.url}/docs`, { waitUntil: "networkidle" });
      await tab.waitForSelector(".opblock");
      const doc = (await r.call("GET", "/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
      const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
      assert.equal(await tab.$$eval(".opblock", (ops) => ops.length), operations, "one block per operation");
      await tab.click("#operations-Model-getV1Model .opblock-summary");
      await tab.waitForSelector("#operations-Model-getV1Model .opblock-body");
      // tryItOutEnabled opens the panel at once; an older Swagger UI needs the button.
      if (!(await tab.$("#operations-Model-getV1Model button.execute"))) await tab.click("#operations-Model-getV1Model button.try-out__btn");
      await tab.click("#operations-Model-getV1Model button.execute");
      const live = "#operations-Model-getV1Model .live-responses-table tbody .response-col_status";
      await tab.waitForSelector(live);
      assert.match((await tab.textContent(live))!, /200/);
      assert.match((await tab.textContent("#operations-Model-getV1Model .live-responses-table tbody .response-col_description"))!, /fym-tiny-dit/);
      assert.deepEqual(foreign, [], "nothing loaded from another origin");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
});
