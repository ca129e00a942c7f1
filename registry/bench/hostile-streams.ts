// Hostile streams: many open SSE streams (each key at its cap, as many keys as it takes) while a
// health check is timed, on Node and on local workerd. Done when the health check stays under
// 50 ms at p99 on both. Prints a Markdown report.
// Usage: node --import tsx registry/bench/hostile-streams.ts [--node 1500] [--workerd 300] [--probes 400]
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import http from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { defaultConfig } from "../config.ts";

const arg = (name: string, fallback: number) => Number(process.argv[process.argv.indexOf(`--${name}`) + 1]) || fallback;
const STREAMS = { node: arg("node", 1_500), workerd: arg("workerd", 300) };
const PROBES = arg("probes", 400);
const PER_KEY = defaultConfig.maxStreamsPerKey;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

async function start(target: "node" | "workerd") {
  const script = target === "node" ? "./server.ts" : "./worker-server.ts";
  const args = target === "node" ? [await mkdtemp(join(tmpdir(), "motion-lora-hostile-"))] : [];
  const proc = spawn(process.execPath, ["--import", "tsx", new URL(script, import.meta.url).pathname, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const first = await new Promise<string>((ok) => createInterface({ input: proc.stdout! }).once("line", ok));
  return { proc, ...(JSON.parse(first) as { url: string; token: string }) };
}

function request(base: string, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const u = new URL(path, base);
  return new Promise((ok, fail) => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    if (body !== undefined) headers["content-type"] = "application/json";
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method, agent, headers }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c));
      res.on("end", () => ok({ status: res.statusCode ?? 0, json: text.startsWith("{") ? JSON.parse(text) : null }));
    });
    req.on("error", fail);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Opens a stream and resolves once its first event arrived (the registry holds it open); the caller ends it. */
function openStream(base: string, token: string, job: string): Promise<{ status: number; req: http.ClientRequest }> {
  const u = new URL(`/v1/jobs/${job}/events`, base);
  return new Promise((ok, fail) => {
    // Its own socket: a stream holds it for as long as it is open.
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) return void res.resume().on("end", () => ok({ status: res.statusCode ?? 0, req }));
      res.once("data", () => ok({ status: 200, req }));
      res.on("data", () => {});
    });
    req.on("error", fail);
    req.end();
  });
}

/** CPU seconds used so far by a process and its descendants (workerd runs under the server script). */
async function cpuSeconds(pid: number): Promise<number> {
  const kids = spawnSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
    .stdout.split("\n")
    .map(Number)
    .filter((n) => n > 0);
  const stat = (await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "")).split(") ")[1]?.split(" ") ?? [];
  const own = (Number(stat[11] ?? 0) + Number(stat[12] ?? 0)) / 100;
  return own + (await Promise.all(kids.map(cpuSeconds))).reduce((a, b) => a + b, 0);
}

/** Times `PROBES` sequential health checks, 10 ms apart, and the server's CPU share meanwhile. */
async function probe(base: string, pid: number) {
  const lat: number[] = [];
  const cpu0 = await cpuSeconds(pid);
  const t0 = performance.now();
  for (let i = 0; i < PROBES; i++) {
    const t = performance.now();
    const r = await request(base, "GET", "/healthz");
    if (r.status !== 200) throw new Error(`healthz answered ${r.status}`);
    lat.push(performance.now() - t);
    await new Promise((ok) => setTimeout(ok, 10));
  }
  const cpu = (await cpuSeconds(pid)) - cpu0;
  return { p50: pct(lat, 50), p90: pct(lat, 90), p99: pct(lat, 99), cpu: (100 * cpu) / ((performance.now() - t0) / 1000) };
}

async function run(target: "node" | "workerd") {
  const n = STREAMS[target];
  const server = await start(target);
  try {
    const keys = Math.ceil(n / PER_KEY);
    const tokens: string[] = [];
    for (let k = 0; k < keys; k++) {
      const r = await request(server.url, "POST", "/v1/keys", server.token, { owner: `tenant${k}`, rate_limit_per_minute: 1_000_000 });
      tokens.push((r.json as { token: string }).token);
    }
    const jobs: { token: string; id: string }[] = [];
    for (let i = 0; i < n; i++) {
      const token = tokens[Math.floor(i / PER_KEY)]!;
      const r = await request(server.url, "POST", "/v1/jobs", token, { kind: "generate", input: { prompt: "a red circle on a black background" } });
      if (r.status !== 201) throw new Error(`creating a job answered ${r.status}: ${JSON.stringify(r.json)}`);
      jobs.push({ token, id: (r.json as { id: string }).id });
    }
    const idle = await probe(server.url, server.proc.pid!);
    const streams: http.ClientRequest[] = [];
    for (let i = 0; i < n; i += 50) {
      const opened = await Promise.all(jobs.slice(i, i + 50).map((j) => openStream(server.url, j.token, j.id)));
      for (const o of opened) {
        if (o.status !== 200) throw new Error(`a stream answered ${o.status}`);
        streams.push(o.req);
      }
    }
    // One more on a key at its cap is refused.
    const over = await openStream(server.url, tokens[0]!, jobs[0]!.id);
    await new Promise((ok) => setTimeout(ok, 2_000));
    const loaded = await probe(server.url, server.proc.pid!);
    for (const s of streams) s.destroy();
    return { n, keys, idle, loaded, refused: over.status };
  } finally {
    server.proc.kill("SIGTERM");
    await new Promise((ok) => server.proc.once("exit", ok));
  }
}

const table = ([head, ...body]: string[][]) =>
  [`| ${head!.join(" | ")} |`, `| ${head!.map(() => "---").join(" | ")} |`, ...body.map((r) => `| ${r.join(" | ")} |`)].join("\n");
const started = new Date().toISOString();
const results = { node: await run("node"), workerd: await run("workerd") };
const f = (x: number) => x.toFixed(1);
const rows = (["node", "workerd"] as const).map((t) => {
  const r = results[t];
  return [
    t,
    `${r.n} (${r.keys} keys × ≤ ${PER_KEY})`,
    `${f(r.idle.p50)} / ${f(r.idle.p99)}`,
    `${f(r.loaded.p50)} / ${f(r.loaded.p90)} / ${f(r.loaded.p99)}`,
    `${f(r.idle.cpu)}% → ${f(r.loaded.cpu)}%`,
    String(r.refused),
    r.loaded.p99 < 50 ? "yes" : "**no**",
  ];
});
const report = [
  "# Hostile streams: the health check while many SSE streams stay open",
  "",
  `${started} · Node ${process.version} · ${cpus().length} cores · registry in its own process (workerd: the Worker build under Miniflare, D1 + R2 on disk) · ` +
    `${PROBES} sequential GET /healthz 10 ms apart, before and with the streams open · each stream watches its own queued job · one run`,
  "",
  table([
    [
      "target",
      "open streams",
      "healthz ms, none open: p50 / p99",
      "healthz ms, streams open: p50 / p90 / p99",
      "registry CPU (of one core)",
      "one more on a full key",
      "p99 < 50 ms",
    ],
    ...rows,
  ]),
].join("\n");
console.log(report);
process.exit(0);
