import assert from "node:assert/strict";
import { it } from "node:test";
import { logger, prettyLine } from "./log.ts";

const request = {
  ts: "2026-11-25T12:00:01.123Z",
  level: "info",
  requestId: "req_1",
  method: "GET",
  route: "/v1/loras",
  path: "/v1/loras",
  status: 200,
  ms: 2.123,
  key: null,
};
const idle = { ...request, level: "debug", method: "POST", path: "/v1/runner/claim", status: 204 };

it("writes a request as one readable line, and other records with their fields", () => {
  assert.equal(prettyLine(request), "12:00:01 GET /v1/loras 200 2.1 ms");
  assert.equal(
    prettyLine({ ts: request.ts, level: "warn", msg: "runner webhook failed", url: "https://x" }),
    "12:00:01 warn runner webhook failed url=https://x",
  );
  assert.equal(prettyLine({ ts: request.ts, source: "runner", pid: 7, line: "runner started" }), "12:00:01 runner[7] runner started");
});

it("leaves idle runner polls out unless asked for debug, and keeps JSON for machines", () => {
  const lines: string[] = [];
  for (const format of ["pretty", "json", "debug"] as const) {
    const log = logger(format, (l) => lines.push(`${format}: ${l}`));
    log(request);
    log(idle);
  }
  assert.deepEqual(lines, [
    "pretty: 12:00:01 GET /v1/loras 200 2.1 ms",
    `json: ${JSON.stringify(request)}`,
    "debug: 12:00:01 GET /v1/loras 200 2.1 ms",
    "debug: 12:00:01 POST /v1/runner/claim 204 2.1 ms",
  ]);
});
