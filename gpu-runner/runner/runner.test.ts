import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RunnerError } from "../core/errors.ts";
import { JobInputError } from "./execute.ts";
import { failureOf } from "./runner.ts";

describe("the code and retry of a failed job", () => {
  it("takes both from a RunnerError: input errors are final, the runner's are retried", () => {
    assert.deepEqual(failureOf(new JobInputError("invalid_video", "16 frames, not 8")), { code: "invalid_video", final: true });
    assert.deepEqual(failureOf(new RunnerError("artifact_missing", "no manifest")), { code: "artifact_missing", final: false });
    assert.deepEqual(failureOf(new RunnerError("unsupported_option", "rank", true)), { code: "unsupported_option", final: true });
  });

  it("keeps a known code of an error outside the RunnerError base, final when it is about the input", () => {
    assert.deepEqual(failureOf(Object.assign(new Error("purple"), { code: "unknown_word" })), { code: "unknown_word", final: true });
    assert.deepEqual(failureOf(Object.assign(new Error("crashed"), { code: "worker_crashed" })), { code: "worker_crashed", final: false });
  });

  it("reports any other error as a retried runner_error, never its own code", () => {
    for (const e of [
      Object.assign(new Error("reset"), { code: "ECONNRESET" }),
      Object.assign(new Error("odd"), { code: "bad_output" }),
      new TypeError("x is undefined"),
      "a string",
      null,
    ]) {
      assert.deepEqual(failureOf(e), { code: "runner_error", final: false }, String(e));
    }
  });
});
