// How long a fresh runner's first job goes without a heartbeat reaching the registry: onnxruntime-node
// creates a graph's session and runs it on the runner's one thread, so nothing else (a heartbeat)
// moves meanwhile. Each run starts a fresh runner process (the real CLI, ONNX on the CPU) and gives
// it one tune; the registry's request log says when its claim, heartbeats and completion arrived.
// Usage: npx tsx test/bench/first-job-heartbeats.ts [--runs 3] [--out DIR]
// Writes DIR/RESULTS-first-job-heartbeats.md (default DIR: gpu-runner/evaluation/results).
import { readFile, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MotionLora } from "../../sdk/client/client.ts";
import { encodeClipPng, fitClip } from "../../sdk/video/frames.ts";
import { readFrames } from "../../sdk/video/read.ts";
import { cli } from "../helpers/processes.ts";
import { startTestRegistry } from "../helpers/registry.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "3" }, out: { type: "string", default: "gpu-runner/evaluation/results" } } });
const runs = Number(values.runs);
const reg = await startTestRegistry();
const alice = new MotionLora({ baseUrl: reg.url, apiKey: await reg.key("alice") });
const token = await reg.key("runner", ["runner"], 100_000);
const clip = await encodeClipPng(
  fitClip(await readFrames(new Uint8Array(await readFile(new URL("../../examples/clips/single-object-1.png", import.meta.url))))),
);
const video = (await alice.blobs.upload(clip, "video")).sha256;

const rows: { startMs: number; firstBeatMs: number; maxGapMs: number; jobMs: number; load: number }[] = [];
for (let i = 0; i < runs; i++) {
  const load = loadavg()[0]!;
  const t0 = Date.now();
  const runner = cli(["runner", "start", "--registry", reg.url, "--lease-seconds", "15", "--cache", `${reg.home}/cache-${i}`], { MOTION_LORA_TOKEN: token });
  await runner.waitFor(/runner started/, 120_000);
  const startMs = Date.now() - t0;
  const job = await alice.jobs.create({
    kind: "tune",
    input: {
      video_sha256: video,
      prompt: "a white diamond on a striped black background",
      lora: `alice/bench-${i}`,
      create: { title: `bench ${i}`, category: "single-object" },
      options: { spatial_steps: 1, temporal_steps: 6, sample_steps: 1, seed: i },
    },
  });
  const done = await alice.jobs.wait(job.id);
  if (done.status !== "succeeded") throw new Error(`job ${job.id} ${done.status}: ${JSON.stringify(done.error)}`);
  runner.child.kill("SIGTERM");
  await runner.exited;
  // The claim that took this job, each heartbeat on it, and its completion, as the registry received them.
  const at = (route: string, path?: string) =>
    reg.logs.filter((l) => l.route === route && (path === undefined || l.path === path) && l.status === 200).map((l) => Date.parse(String(l.ts)));
  const claim = at("/v1/runner/claim").filter((t) => t >= t0)[0]!;
  const beats = at("/v1/jobs/:id/heartbeat", `/v1/jobs/${job.id}/heartbeat`);
  const end = at("/v1/jobs/:id/complete", `/v1/jobs/${job.id}/complete`)[0]!;
  const times = [claim, ...beats, end];
  const maxGapMs = Math.max(...times.slice(1).map((t, k) => t - times[k]!));
  rows.push({ startMs, firstBeatMs: beats[0]! - claim, maxGapMs, jobMs: end - claim, load });
  console.error(`run ${i}: ${JSON.stringify(rows.at(-1))}`);
}
await reg.stop();

const lines = [
  "# A fresh runner's first job: the longest time without a heartbeat (ONNX, CPU)",
  "",
  `${new Date().toISOString()} · ${runs} runs, each a fresh \`motion-lora runner start\` (15 s leases) given one tune (1 spatial, 6 temporal, 1 sample step) · times as the registry received the requests · command: \`npx tsx test/bench/first-job-heartbeats.ts --runs ${runs}\``,
  "",
  "| run | load (1 min) | start to `runner started` ms | claim to first heartbeat ms | longest gap ms | claim to completion ms |",
  "| --- | --- | --- | --- | --- | --- |",
  ...rows.map((r, i) => `| ${i} | ${r.load.toFixed(1)} | ${r.startMs} | ${r.firstBeatMs} | ${r.maxGapMs} | ${r.jobMs} |`),
  "",
];
await writeFile(join(values.out!, "RESULTS-first-job-heartbeats.md"), lines.join("\n"));
console.log(lines.join("\n"));
