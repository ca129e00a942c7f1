import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { baseModelFromArtifacts, type BaseModelSpec } from "./spec.ts";

// The registry's one reading of the model's artifacts, as data and never as code: Node reads them at
// start (node.ts, worker-local.ts), and the Worker build bakes what this returns into the bundle
// (worker-build.ts), since a Worker has no files. Node only.

/** The bundled model's artifacts, made by `python -m fymnet.export` (gpu-runner/model/fymnet/export/). */
export const BUNDLED_ARTIFACTS = fileURLToPath(new URL("../../gpu-runner/artifacts/", import.meta.url));

/**
 * The base model LoRAs must fit and prompts must be written for, from the artifacts when they are
 * here. The vocabulary and grammar must be the ones the manifest hashes: prompts the registry accepts
 * are then exactly those the runner's tokenizer accepts, in the word order the model learned.
 */
export function loadBaseModel(dir = BUNDLED_ARTIFACTS): BaseModelSpec | null {
  const manifestPath = join(dir, "manifest.json");
  if (!existsSync(manifestPath)) return null;
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { model?: Record<string, unknown>; graphs?: unknown };
  const model = manifest.model ?? {};
  // A file the manifest names and hashes, parsed; undefined when it is not there.
  const hashed = (field: string, fallback: string): unknown => {
    const path = join(dir, typeof model[field] === "string" ? model[field] : fallback);
    if (!existsSync(path)) return undefined;
    const bytes = readFileSync(path);
    const sha = createHash("sha256").update(bytes).digest("hex");
    if (sha !== model[`${field}_sha256`]) {
      throw new Error(
        `${path} has sha256 ${sha}, but ${manifestPath} records ${String(model[`${field}_sha256`])}: restore the artifacts (git checkout gpu-runner/artifacts)`,
      );
    }
    return JSON.parse(bytes.toString("utf8"));
  };
  const vocab = hashed("vocab", "vocab.json");
  if (vocab === undefined) return null;
  return baseModelFromArtifacts(manifest, vocab, model.grammar === undefined ? undefined : hashed("grammar", "grammar.json"));
}
