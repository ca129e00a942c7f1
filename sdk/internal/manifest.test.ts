import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Manifest, manifestJsonSchema } from "./manifest.ts";

const read = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8"));

describe("the manifest contract", () => {
  it("manifest.schema.json, what the Python export is tested against, is the schema the runner and registry parse with", () => {
    assert.deepEqual(read("./manifest.schema.json"), manifestJsonSchema(), "run `npm run schema:manifest` and commit sdk/internal/manifest.schema.json");
  });

  it("the shipped artifacts' manifest fits it", () => {
    const m = Manifest.parse(read("../../gpu-runner/artifacts/manifest.json"));
    assert.equal(
      m.model.sparse_frames,
      m.graphs.train_step_sparse.inputs.find((i) => i.name === "x0")?.shape[1],
      "sparse_frames is the sparse graph's frame count",
    );
  });
});
