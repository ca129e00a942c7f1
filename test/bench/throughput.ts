// Throughput through the whole product: a registry, one runner process and M SDK clients that tune and
// generate as fast as their jobs come back, against the engine's raw batched figures measured in this
// process first (tuneMany / generateMany of N), and a lone tune's latency through the product against
// the same tune alone in-process (what a batch window costs a single user).
// Usage: npx tsx test/bench/throughput.ts [--engine onnx|torch] [--clients 8] [--concurrency 8] [--batch-window 250]
//   [--minutes 3] [--gen-steps 20] [--tune-options '{"temporal_steps":...}'] [--lone 5] [--tag torch-h200] [--out DIR]
// Writes DIR/RESULTS-throughput-<tag>.md and .json (default DIR: test/bench/results).
import { readFile, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { createKey } from "../../registry/auth/keys.ts";
import { MotionLora } from "../../sdk/client/client.ts";
import { createEngine } from "../../gpu-runner/engine/create.ts";
import { decodeClipPng } from "../../sdk/video/frames.ts";
import { clipFromRgb } from "../../gpu-runner/core/clip.ts";
import { generateMany } from "../../gpu-runner/fym/sampler.ts";
import { tuneMany } from "../../gpu-runner/fym/tune.ts";
import { defaultTuneFor } from "../../gpu-runner/fym/recipes.ts";
import { tuneOptionsOf } from "../../gpu-runner/runner/execute.ts";
import { loadGrammar, transferPrompts } from "../../gpu-runner/runner/sample-prompt.ts";
import { DEFAULT_SAMPLES, transferSamples } from "../../gpu-runner/runner/transfer-samples.ts";
import { TuneOptions } from "../../sdk/schema/jobs.ts";
import { cli } from "../helpers/processes.ts";
import { startTestRegistry } from "../helpers/registry.ts";

const { values } = parseArgs({
  options: {
    engine: { type: "string", default: "onnx" },
    clients: { type: "string", default: "8" },
    concurrency: { type: "string", default: "8" },
    "batch-window": { type: "string", default: "250" },
    minutes: { type: "string", default: "3" },
    "gen-steps": { type: "string", default: "20" },
    // The API's tune options (snake_case), on top of the default recipe: e.g. a short smoke run on a CPU.
    "tune-options": { type: "string", default: "{}" },
    lone: { type: "string", default: "5" },
    tag: { type: "string" },
    out: { type: "string", default: "test/bench/results" },
  },
});
const M = Number(values.clients);
const N = Number(values.concurrency);
const seconds = Number(values.minutes) * 60;
const genSteps = Number(values["gen-steps"]);
// The API's tune options, checked by its schema.
const tuneOptions = TuneOptions.parse(JSON.parse(values["tune-options"]!));
const lone = Number(values.lone);
for (const [k, v] of Object.entries({ clients: M, concurrency: N, minutes: seconds, "gen-steps": genSteps, lone }))
  if (!(v > 0)) throw new Error(`--${k} must be a positive number; got ${v}`);

const CATEGORY = ["single-object", "multiple-objects", "camera-motion", "human-motion"] as const;
const NAMES = ["single-object-1", "multiple-objects-1", "camera-motion-1", "human-motion-1"];
const captions = JSON.parse(await readFile("examples/clips/captions.json", "utf8")) as Record<string, string>;
const refs = await Promise.all(NAMES.map(async (n) => ({ name: n, caption: captions[n]!, png: new Uint8Array(await readFile(`examples/clips/${n}.png`)) })));
const PROMPTS = [
  "a red circle on a navy background",
  "a big yellow star on a checkered teal background",
  "a small white diamond on a gradient maroon background",
];
const quantile = (xs: number[], q: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]! : Number.NaN);
const log = (s: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

// 1. Raw: the engine in this process, N jobs in one batched call (the ceiling the product is held to).
const engine = await createEngine(values.engine === "torch" ? "torch" : "onnx", "cpu");
const clips = await Promise.all(
  refs.map(async (r) => {
    const f = await decodeClipPng(r.png, { frames: engine.config.frames, size: engine.config.size });
    return clipFromRgb(f.rgb, f.count, f.width);
  }),
);
// Job options as the runner turns them into the method's (Executor.tune).
const partial = tuneOptionsOf(tuneOptions);
const recipeOptions = { ...defaultTuneFor(engine, partial), ...partial };
const tuneJobs = (n: number, seed0: number) =>
  Array.from({ length: n }, (_, i) => ({
    clip: clips[i % clips.length]!,
    caption: refs[i % refs.length]!.caption,
    options: { ...recipeOptions, seed: seed0 + i },
  }));
await Promise.all(tuneMany(engine, tuneJobs(Math.min(N, 2), 0))); // warm-up: sessions, CUDA graphs
// A tune job alone, as the runner makes it: the tune, then its transfer samples, generated and scored.
const grammar = await loadGrammar();
let t0 = performance.now();
const [alone] = await Promise.all(tuneMany(engine, tuneJobs(1, 100)));
const sampleSteps = tuneOptions.sample_steps ?? 20;
await transferSamples((list) => generateMany(engine, list), {
  reference: clips[0]!,
  category: CATEGORY[0],
  lora: { lora: alone!.temporal.lora, weight: 1, until: recipeOptions.applyUntil ?? 1 },
  prompts: sampleSteps > 0 && grammar ? transferPrompts(refs[0]!.caption, grammar, DEFAULT_SAMPLES) : [],
  steps: sampleSteps,
  signal: new AbortController().signal,
  onStep: () => {},
});
const rawAloneS = (performance.now() - t0) / 1000;
t0 = performance.now();
await Promise.all(tuneMany(engine, tuneJobs(N, 200)));
const rawTunesPerMin = (60 * N) / ((performance.now() - t0) / 1000);
const genList = (n: number) => Array.from({ length: n }, (_, i) => ({ prompt: PROMPTS[i % PROMPTS.length]!, steps: genSteps, seed: i }));
await Promise.all(generateMany(engine, genList(Math.min(N, 2))));
t0 = performance.now();
await Promise.all(generateMany(engine, genList(N)));
const rawGensPerS = N / ((performance.now() - t0) / 1000);
const engineName = engine.name;
await engine.close?.();
log(`raw: a tune alone ${rawAloneS.toFixed(1)} s, ${rawTunesPerMin.toFixed(1)} tunes/min and ${rawGensPerS.toFixed(2)} generations/s at N = ${N}`);

// 2. The product: registry (SQLite, this process), one runner process, M clients with a key each.
const reg = await startTestRegistry();
const token = (await createKey(reg.services.db, { owner: "runner", name: "bench", scopes: ["runner"], rate_limit_per_minute: 1_000_000 }, 100_000)).token;
const runner = cli(
  [
    "runner",
    "start",
    "--registry",
    reg.url,
    "--cache",
    `${reg.home}/cache`,
    "--engine",
    values.engine!,
    "--concurrency",
    String(N),
    "--batch-window",
    values["batch-window"]!,
  ],
  { MOTION_LORA_TOKEN: token },
);
await runner.waitFor(/runner started/);
const clients = await Promise.all(
  Array.from({ length: M }, async (_, i) => new MotionLora({ baseUrl: reg.url, apiKey: await reg.key(`client${i}`, ["read", "write"], 1_000_000) })),
);
const tuneVia = (c: MotionLora, i: number, k: number) =>
  c.tune({
    video: refs[(i + k) % refs.length]!.png,
    prompt: refs[(i + k) % refs.length]!.caption,
    lora: `client${i}/motion-${k}`,
    // Public: every client's generations apply the first one.
    create: { title: `motion ${k}`, category: CATEGORY[(i + k) % refs.length]! },
    options: { ...tuneOptions, seed: k },
  });
const warm = await tuneVia(clients[0]!, 0, 0);
const motion = { version: warm };
await clients[0]!.generate({ prompt: PROMPTS[0]!, loras: [motion], options: { steps: genSteps } });

const loneS: number[] = [];
for (let k = 1; k <= lone; k++) {
  const t = performance.now();
  await tuneVia(clients[0]!, 0, k);
  loneS.push((performance.now() - t) / 1000);
}
log(`lone tunes through the product: ${loneS.map((s) => s.toFixed(1)).join(", ")} s`);

/** M clients loop `work` until the deadline; the rate counts jobs that ended inside the window. */
async function load(kind: string, work: (c: MotionLora, i: number, k: number) => Promise<unknown>) {
  const start = performance.now();
  const end = start + seconds * 1000;
  const latencies: number[] = [];
  let failed = 0;
  await Promise.all(
    clients.map(async (c, i) => {
      for (let k = 1000; performance.now() < end; k++) {
        const t = performance.now();
        try {
          await work(c, i, k);
          if (performance.now() <= end) latencies.push((performance.now() - t) / 1000);
        } catch (e) {
          // A failed job is counted; more than a few mean the run measures errors, not throughput.
          log(`${kind} client ${i}: ${(e as Error).message}`);
          if (++failed > 5) throw new Error(`${failed} ${kind} jobs failed: see the messages above`);
        }
      }
    }),
  );
  const r = { kind, done: latencies.length, failed, perS: latencies.length / seconds, p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95) };
  log(JSON.stringify(r));
  return r;
}
const tunes = await load("tune", tuneVia);
const gens = await load("generate", (c, i, k) =>
  c.generate({ prompt: PROMPTS[(i + k) % PROMPTS.length]!, loras: [motion], options: { steps: genSteps, seed: k } }),
);
runner.child.kill("SIGTERM");
await runner.exited;
await reg.stop();

const tunesPerMin = tunes.perS * 60;
const loneP95 = quantile(loneS, 0.95);
const lines = [
  `# Throughput through the product (${engineName}, ${cpus().length} cores)`,
  "",
  `${new Date().toISOString()} · registry on SQLite (loopback), one runner process (\`--engine ${values.engine} --concurrency ${N} --batch-window ${values["batch-window"]}\`), ${M} SDK clients, each looping \`tune()\` then \`generate()\` for ${values.minutes} min a phase; tunes: the default recipe${Object.keys(tuneOptions).length ? ` with ${JSON.stringify(tuneOptions)}` : ""} and its transfer samples (the runner's default count); generations: ${genSteps} steps with one motion LoRA. Raw: the same engine in this process first, N = ${N} jobs in one tuneMany / generateMany call. command: \`npx tsx test/bench/throughput.ts ${process.argv.slice(2).join(" ")}\``,
  "",
  "| measure | through the product | raw, in-process | product ÷ raw |",
  "| --- | --- | --- | --- |",
  `| tunes / min | ${tunesPerMin.toFixed(1)} (n = ${tunes.done}, ${tunes.failed} failed) | ${rawTunesPerMin.toFixed(1)} | ${(tunesPerMin / rawTunesPerMin).toFixed(2)} |`,
  `| generations / s | ${gens.perS.toFixed(2)} (n = ${gens.done}, ${gens.failed} failed) | ${rawGensPerS.toFixed(2)} | ${(gens.perS / rawGensPerS).toFixed(2)} |`,
  `| tune latency under load, p50 / p95 s | ${tunes.p50.toFixed(1)} / ${tunes.p95.toFixed(1)} | – | – |`,
  `| generation latency under load, p50 / p95 s | ${gens.p50.toFixed(2)} / ${gens.p95.toFixed(2)} | – | – |`,
  `| a lone tune job (tune + transfer samples), p95 s (n = ${lone}) | ${loneP95.toFixed(1)} (${loneS.map((s) => s.toFixed(1)).join(", ")}) | ${rawAloneS.toFixed(1)} (alone, n = 1) | ${(loneP95 / rawAloneS).toFixed(2)} |`,
];
const name = `${values.out}/RESULTS-throughput-${values.tag ?? engineName.split("+")[0]!.replace(":", "-")}`;
await writeFile(`${name}.md`, `${lines.join("\n")}\n`);
await writeFile(
  `${name}.json`,
  `${JSON.stringify({ at: new Date().toISOString(), engine: engineName, args: values, raw: { aloneS: rawAloneS, tunesPerMin: rawTunesPerMin, gensPerS: rawGensPerS }, loneS, tunes, gens }, null, 1)}\n`,
);
console.log(lines.join("\n"));
