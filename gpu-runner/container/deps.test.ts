// The runner image installs its own dependencies (gpu-runner/container/package.json and its lockfile),
// apart from the repository's: they must be the versions the repository's lockfile tests.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

type Lock = { packages: Record<string, { version?: string; dev?: boolean }> };
const read = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8")) as Lock;
const name = (path: string) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);

describe("the runner image's dependencies", () => {
  it("are the versions the repository's package-lock.json installs, each package of them", () => {
    const repo = new Map<string, Set<string>>();
    for (const [path, p] of Object.entries(read("../../package-lock.json").packages))
      if (path && p.version) repo.set(name(path), (repo.get(name(path)) ?? new Set()).add(p.version));
    const image = Object.entries(read("./package-lock.json").packages).filter(([path]) => path !== "");
    assert.ok(image.some(([path]) => name(path) === "onnxruntime-node"));
    for (const [path, p] of image) {
      const tested = repo.get(name(path));
      assert.ok(tested?.has(p.version!), `${name(path)}@${p.version} in the image; the repository tests ${[...(tested ?? [])].join(", ") || "none"}`);
    }
  });
});
