// Generation latency through the whole stack (SDK -> registry -> warm runner process -> result)
// against the same generation called in-process, interleaved so both see the same machine load.
// Usage: npx tsx test/bench/stack.ts [--runs 7] [--steps 20]  (writes test/bench/results/RESULTS-stack-onnx-cpu.md and .json)
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createKey } from "../../registry/auth/keys.ts";
import { startTestRegistry } from "../helpers/registry.ts";
import { cli } from "../helpers/processes.ts";
import { MotionLora } from "../../sdk/client/client.ts";
import { OnnxEngine } from "../../gpu-runner/engine/onnx-engine.ts";
import { OnnxModel } from "../../gpu-runner/engine/session.ts";
import { generate } from "../../gpu-runner/fym/sampler.ts";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "7" }, steps: { type: "string", default: "20" }, out: { type: "string", default: "test/bench/results" } },
});
const runs = Number(values.runs);
const steps = Number(values.steps);
const prompt = "a red circle on a gradient navy background";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const reg = await startTestRegistry();
const user = new MotionLora({ baseUrl: reg.url, apiKey: await reg.key("bench") });
const token = (await createKey(reg.services.db, { owner: "runner", name: "bench", scopes: ["runner"], rate_limit_per_minute: 100_000 }, 100_000)).token;
const runner = cli(["runner", "start", "--registry", reg.url, "--cache", `${reg.home}/cache`], { MOTION_LORA_TOKEN: token });
await runner.waitFor(/runner started/);
const engine = new OnnxEngine(await OnnxModel.load());

const inproc: number[] = [];
const stack: number[] = [];
for (let i = -1; i < runs; i++) {
  // i = -1 warms both: sessions created, caches filled.
  let t0 = performance.now();
  await generate(engine, { prompt, steps, seed: i + 10 });
  const a = performance.now() - t0;
  t0 = performance.now();
  await user.generate({ prompt, options: { steps, seed: i + 10 } });
  const b = performance.now() - t0;
  if (i >= 0) {
    inproc.push(a);
    stack.push(b);
  }
  console.error(`run ${i}: in-process ${a.toFixed(0)} ms, through the stack ${b.toFixed(0)} ms`);
}
runner.child.kill("SIGTERM");
await runner.exited;
await reg.stop();
await engine.model.release();

const mi = median(inproc);
const ms = median(stack);
const budget = mi * 0.05 + 100;
const lines = [
  "# Generation through the whole stack vs in-process (CPU)",
  "",
  `${new Date().toISOString()} · ${runs} runs each after one warm-up, interleaved · ${steps} Euler steps with guidance, 16 frames of 32×32 · registry on loopback (in this process), runner in its own process (warm), SDK \`client.generate()\` (create job, SSE until done, download + verify + decode the clip PNG) · command: \`npx tsx test/bench/stack.ts --runs ${runs} --steps ${steps}\``,
  "",
  "| path | median ms | runs (ms) |",
  "| --- | --- | --- |",
  `| in-process \`generate()\` | ${mi.toFixed(0)} | ${inproc.map((x) => x.toFixed(0)).join(", ")} |`,
  `| SDK → registry → runner → SDK | ${ms.toFixed(0)} | ${stack.map((x) => x.toFixed(0)).join(", ")} |`,
  "",
  `Overhead of the stack: ${(ms - mi).toFixed(0)} ms (${(((ms - mi) / mi) * 100).toFixed(1)}%); target ≤ 5% + 100 ms = ${budget.toFixed(0)} ms: ${ms - mi <= budget ? "met" : "NOT met"}.`,
];
await writeFile(`${values.out}/RESULTS-stack-onnx-cpu.md`, `${lines.join("\n")}\n`);
await writeFile(
  `${values.out}/RESULTS-stack-onnx-cpu.json`,
  `${JSON.stringify({ at: new Date().toISOString(), runs, steps, inProcessMs: inproc, stackMs: stack, medianInProcessMs: mi, medianStackMs: ms }, null, 1)}\n`,
);
console.log(lines.join("\n"));
