import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startTestRegistry } from "../../test/helpers/registry.ts";
import { GRAPH_NAMES } from "../engine/manifest.ts";
import { OnnxEngine } from "../engine/onnx-engine.ts";
import { RunnerError } from "../core/errors.ts";
import { JobInputError } from "./execute.ts";
import { failureOf } from "./runner.ts";
import { createRunner } from "./start.ts";

describe("the code and retry of a failed job", () => {
  it("takes both from a RunnerError: input errors are final, the runner's are retried", () => {
    assert.deepEqual(failureOf(new JobInputError("invalid_video", "16 frames, not 8")), { code: "invalid_video", final: true });
    assert.deepEqual(failureOf(new RunnerError("artifact_missing", "no manifest")), { code: "artifact_missing", final: false });
    assert.deepEqual(failureOf(new RunnerError("unsupported_option", "rank", true)), { code: "unsupported_option", final: true });
  });

  it("keeps a known code of an error outside the RunnerError base, final when it is about the input", () => {
    assert.deepEqual(failureOf(Object.assign(new Error("purple"), { code: "unknown_word" })), { code: "unknown_word", final: true });
    assert.deepEqual(failureOf(Object.assign(new Error("crashed"), { code: "engine_crashed" })), { code: "engine_crashed", final: false });
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

describe("a runner starting", () => {
  it("creates every ONNX graph's session before its first claim, where creating one would block its first job's heartbeats", async () => {
    const reg = await startTestRegistry();
    try {
      const entries: Record<string, unknown>[] = [];
      let openedAtStart: string[] = [];
      const { runner, engine } = await createRunner({
        registry: reg.url,
        token: await reg.key("runner", ["runner"]),
        cacheDir: `${reg.home}/cache`,
        // One claim, answered at once (nothing is queued), then the runner exits.
        idleExitMs: 0,
        log: (e) => {
          entries.push(e);
          if (e.msg === "runner started" && engine instanceof OnnxEngine) openedAtStart = engine.model.opened();
        },
      });
      try {
        await runner.run();
      } finally {
        await engine.close?.();
      }
      assert.ok(engine instanceof OnnxEngine, "the default engine is ONNX");
      assert.deepEqual(openedAtStart, [...GRAPH_NAMES]);
      assert.ok(entries.findIndex((e) => e.msg === "runner started") < entries.findIndex((e) => e.msg === "idle; exiting"), "it started, then claimed");
      const claims = reg.logs.filter((l) => l.route === "/v1/runner/claim");
      assert.equal(claims.length, 1, "one claim, after the graphs were open");
    } finally {
      await reg.stop();
    }
  });
});
