import { readFile } from "node:fs/promises";
import { MotionLora } from "../../sdk/client/client.ts";
import { encodeClipPng, fitClip } from "../../sdk/video/frames.ts";
import { readFrames } from "../../sdk/video/read.ts";
import { startTestRegistry, type TestRegistry } from "./registry.ts";

export interface TuneFixture {
  reg: TestRegistry;
  alice: MotionLora;
  /** A key with the 'runner' scope, for a runner the test starts. */
  runnerToken: string;
  /** A bundled example clip, fitted to the model and uploaded by alice as a video. */
  video: string;
}

/** A registry on TARGET with a user, a runner key and one of the bundled clips uploaded: what a runner test tunes with. */
export async function startTuneFixture(clip = "single-object-1.png"): Promise<TuneFixture> {
  const reg = await startTestRegistry();
  const alice = new MotionLora({ baseUrl: reg.url, apiKey: await reg.key("alice") });
  const runnerToken = await reg.key("runner", ["runner"]);
  const png = await encodeClipPng(fitClip(await readFrames(new Uint8Array(await readFile(new URL(`../../examples/clips/${clip}`, import.meta.url))))));
  const video = (await alice.blobs.upload(png, "video")).sha256;
  return { reg, alice, runnerToken, video };
}
