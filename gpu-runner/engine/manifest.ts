import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Manifest } from "../../sdk/internal/manifest.ts";
import { RunnerError } from "../core/errors.ts";

// The manifest's schema is the one the Python export is tested against (sdk/internal/manifest.ts).
export { GRAPH_NAMES, GraphEntry, Manifest, type GraphName } from "../../sdk/internal/manifest.ts";

/** The bundled artifacts (ONNX graphs, weights, vocabulary), made by `python -m fymnet.export` (gpu-runner/model/fymnet/export/). */
export const DEFAULT_ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;

/** The bundled artifacts are missing, altered or inconsistent: the runner's install, not the job. */
export class ArtifactError extends RunnerError {
  override name = "ArtifactError";
  declare readonly code: "artifact_missing" | "artifact_corrupt" | "manifest_invalid";
  constructor(code: ArtifactError["code"], message: string) {
    super(code, message);
  }
}

async function sha256(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

/** Reads and validates manifest.json, and checks every file against its recorded sha256. */
export async function loadManifest(dir = DEFAULT_ARTIFACTS, { verify = true } = {}): Promise<Manifest> {
  let raw: string;
  try {
    raw = await readFile(join(dir, "manifest.json"), "utf8");
  } catch {
    throw new ArtifactError("artifact_missing", `no manifest.json in ${dir}; regenerate the artifacts with gpu-runner/model/run_gpu.sh`);
  }
  const parsed = Manifest.safeParse(JSON.parse(raw));
  if (!parsed.success)
    throw new ArtifactError("manifest_invalid", `manifest.json: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`);
  const m = parsed.data;
  if (verify) {
    const files: [string, string][] = [
      [m.model.weights, m.model.sha256],
      [m.model.vocab, m.model.vocab_sha256],
      ...(m.model.grammar && m.model.grammar_sha256 ? [[m.model.grammar, m.model.grammar_sha256] as [string, string]] : []),
      ...Object.values(m.graphs).map((g) => [g.file, g.sha256] as [string, string]),
    ];
    for (const [file, expected] of files) {
      const got = await sha256(join(dir, file)).catch(() => {
        throw new ArtifactError("artifact_missing", `${file} is missing from ${dir}`);
      });
      if (got !== expected)
        throw new ArtifactError("artifact_corrupt", `${file} has sha256 ${got}, the manifest says ${expected}; the artifact set is inconsistent`);
    }
  }
  return m;
}
