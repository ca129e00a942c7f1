import { readFile } from "node:fs/promises";
import { createRunner } from "../../gpu-runner/runner/start.ts";
import { blobOwners, blobs } from "../../registry/db/schema.ts";
import { sha256Hex } from "../../sdk/client/digest.ts";
import { MotionLora } from "../../sdk/client/client.ts";
import type { BlobKind } from "../../sdk/schema/index.ts";
import { encodeClipPng, fitClip } from "../../sdk/video/frames.ts";
import { readFrames } from "../../sdk/video/read.ts";
import type { RegistryConfig } from "../../registry/config.ts";
import { startTestRegistry, type TestRegistry } from "./registry.ts";

/** What a runner's test drives: a registry, its user alice, and a key with the 'runner' scope. */
export async function startRunnerTestRegistry(config: Partial<RegistryConfig> = {}): Promise<{ reg: TestRegistry; alice: MotionLora; runnerToken: string }> {
  const reg = await startTestRegistry(config);
  const alice = new MotionLora({ baseUrl: reg.url, apiKey: await reg.key("alice") });
  return { reg, alice, runnerToken: await reg.key("runner", ["runner"]) };
}

/** A runner test's registry with one of the bundled clips, fitted to the model and uploaded by alice as a video: what a runner test tunes with. */
export async function startTuneFixture(
  clip = "single-object-1.png",
  config: Partial<RegistryConfig> = {},
): Promise<{ reg: TestRegistry; alice: MotionLora; runnerToken: string; video: string }> {
  const f = await startRunnerTestRegistry(config);
  const png = await encodeClipPng(fitClip(await readFrames(new Uint8Array(await readFile(new URL(`../../examples/clips/${clip}`, import.meta.url))))));
  return { ...f, video: (await f.alice.blobs.upload(png, "video")).sha256 };
}

/**
 * Runs every queued job with a fresh torch runner until it has been idle 2 s (`during` runs beside
 * it); returns the sizes of the batches of `kind` it logged.
 */
export async function runTorchUntilIdle(
  reg: TestRegistry,
  token: string,
  o: { concurrency: number; kind: "tune" | "generate"; batchWindowMs: number },
  during?: () => Promise<void>,
): Promise<number[]> {
  const batches: number[] = [];
  const { runner, engine } = await createRunner({
    registry: reg.url,
    token,
    engine: "torch",
    concurrency: o.concurrency,
    batchWindowMs: o.batchWindowMs,
    idleExitMs: 2_000,
    cacheDir: `${reg.home}/runner-cache`,
    log: (e) => {
      if (e.msg === `${o.kind} batch`) batches.push(e.size as number);
    },
  });
  try {
    await Promise.all([runner.run(), during?.()]);
  } finally {
    await engine.close?.();
  }
  return batches;
}

/** Stores `bytes` as `owner`'s blob the way a registry without today's upload checks did: straight into the store. */
export async function storedAnyway(reg: TestRegistry, owner: string, bytes: Uint8Array, kind: BlobKind, contentType: string): Promise<string> {
  const sha256 = await sha256Hex(bytes);
  await reg.services.store.put(sha256, new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(), { maxBytes: 64 << 20 });
  await reg.services.db.insert(blobs).values({ sha256, size: bytes.length, kind, contentType, createdAt: Date.now() });
  await reg.services.db.insert(blobOwners).values({ sha256, owner, uploaded: 1 });
  return sha256;
}
