// Registry benchmark: metadata reads under 32 concurrent connections, a 64 MiB blob download
// against `cat`, and upload hashing against plain streaming to disk. Prints a Markdown report.
// Usage: npm run bench:registry [-- --seconds 5]
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { FsBlobStore } from "../blobs/fs-store.ts";

import { markdownTables } from "./tables.ts";

const seconds = Number(process.argv[process.argv.indexOf("--seconds") + 1]) || 5;
const MiB = 1024 * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

const home = await mkdtemp(join(tmpdir(), "motion-lora-bench-"));
async function startServer(dir: string, cacheMs: number) {
  const proc = spawn(process.execPath, ["--import", "tsx", new URL("./server.ts", import.meta.url).pathname, dir, String(cacheMs)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const first = await new Promise<string>((ok) => createInterface({ input: proc.stdout! }).once("line", ok));
  return { proc, ...(JSON.parse(first) as { url: string; token: string; plain: string }) };
}
const main = await startServer(home, 1_000);
const server = main.proc;
const { url, token, plain } = main;
const hostname = "127.0.0.1";
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

function get(path: string, headers: Record<string, string> = {}, port = new URL(url).port): Promise<{ status: number; bytes: number }> {
  return new Promise((ok, fail) => {
    const req = http.request({ host: hostname, port, path, agent, headers }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => ok({ status: res.statusCode ?? 0, bytes }));
    });
    req.on("error", fail);
    req.end();
  });
}

/** Closed-loop load: `conns` clients each issuing requests back to back for `secs`. */
async function load(path: string, conns: number, secs: number, base = url) {
  const { port } = new URL(base);
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + secs * 1000;
  await Promise.all(
    Array.from({ length: conns }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const r = await get(path, {}, port);
        if (r.status !== 200) errors++;
        lat.push(performance.now() - t);
      }
    }),
  );
  return { rps: lat.length / secs, p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length, errors };
}

const lines: string[] = [];
const say = (s: string) => {
  lines.push(s);
  console.log(s);
};
say(
  `# Registry benchmark\n\n${new Date().toISOString()} · Node ${process.version} · ${(await import("node:os")).cpus().length} cores · load generator and server in separate processes on loopback\n`,
);

// Metadata reads. wrk (C, one thread) leaves the server most of a core; without it a Node
// closed-loop generator stands in, and competes with the server for the 2 cores.
const hasWrk = spawnSync("sh", ["-c", "command -v wrk"]).status === 0;
function wrk(path: string, secs: number, base = url) {
  const out = spawnSync("wrk", ["-t1", "-c32", `-d${secs}s`, "--latency", base + path], { encoding: "utf8" }).stdout;
  const ms = (label: string) => {
    const m = new RegExp(`${label}\\s+([0-9.]+)(us|ms|s)`).exec(out);
    if (!m) return NaN;
    return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
  };
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? "0";
  return { rps: Number(/Requests\/sec:\s+([0-9.]+)/.exec(out)?.[1]), p50: ms("50%"), p99: ms("99%"), errors: Number(non2xx) };
}
const measure = (path: string, secs: number, base = url) => (hasWrk ? Promise.resolve(wrk(path, secs, base)) : load(path, 32, secs, base));
say(`Load generator: ${hasWrk ? "wrk -t1 -c32" : "Node closed loop, 32 connections (install wrk for the reference figures)"}.\n`);
for (const p of ["/v1/loras/bench/motion-7", "/v1/loras?q=orbit&category=single-object&limit=20"]) await measure(p, 2);
say(`| scenario (32 connections, ${seconds} s) | requests/s | p50 ms | p99 ms | non-2xx |\n| --- | --- | --- | --- | --- |`);
for (const [name, path] of [
  ["GET a LoRA", "/v1/loras/bench/motion-7"],
  ["search, first page", "/v1/loras?q=orbit&category=single-object&limit=20"],
  ["list newest, first page", "/v1/loras?limit=20"],
] as const) {
  const r = await measure(path, seconds);
  say(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} |`);
}
// The same reads with the read cache off: every request goes to SQLite (what a cache miss costs).
const cold = await startServer(await mkdtemp(join(tmpdir(), "motion-lora-bench-cold-")), 0);
for (const p of ["/v1/loras/bench/motion-7", "/v1/loras?q=orbit&category=single-object&limit=20"]) await measure(p, 2, cold.url);
for (const [name, path] of [
  ["GET a LoRA, read cache off", "/v1/loras/bench/motion-7"],
  ["search, first page, read cache off", "/v1/loras?q=orbit&category=single-object&limit=20"],
] as const) {
  const r = await measure(path, seconds, cold.url);
  say(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} |`);
}
cold.proc.kill("SIGTERM");

// 64 MiB blob, curl as the client (a real downloader, not a second Node event loop on 2 cores).
// Each figure includes one process start (curl or cat), so the two are timed alike.
const blob = randomBytes(64 * MiB);
const sha = createHash("sha256").update(blob).digest("hex");
const blobFile = join(home, "source.bin");
await writeFile(blobFile, blob);
const sh = (cmd: string) => {
  const r = spawnSync("sh", ["-c", cmd], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
};
// Wall time of a command measured inside the shell (so Node's fork of a large heap is not counted).
const timed = (cmd: string) => {
  const out = sh(`s=$(date +%s%N); ${cmd}; e=$(date +%s%N); echo $(( (e - s) / 1000 ))`);
  return Number(out.trim().split("\n").pop()) / 1000;
};
// curl's own transfer time: its process start-up (~50 ms here, mostly library loading) is not the server's.
const curlMs = (args: string) => Number(sh(`curl -sf -H 'Expect:' -o /dev/null -w '%{time_total}' ${args}`)) * 1000;
const auth = `-H 'authorization: Bearer ${token}'`;
curlMs(`-X PUT ${auth} --data-binary @${blobFile} '${url}/v1/blobs/${sha}?kind=video'`);
const stored = join(home, "blobs", sha.slice(0, 2), sha.slice(2, 4), sha);
const relStored = stored.slice(home.length + 1);
const httpMs: number[] = [];
const rawMs0: number[] = [];
const catMs: number[] = [];
for (let i = 0; i < 9; i++) {
  httpMs.push(curlMs(`${auth} '${url}/v1/blobs/${sha}'`));
  rawMs0.push(curlMs(`'${plain}/?file=${relStored}'`));
  catMs.push(timed(`cat '${stored}' > /dev/null`));
}
const mbps = (ms: number) => (64 / (ms / 1000)).toFixed(0);
say(`\n| 64 MiB blob download (median of 9, page cache warm) | ms | MiB/s |\n| --- | --- | --- |`);
say(`| \`curl\` GET /v1/blobs/{sha256} through the registry (auth, access check, ETag) | ${median(httpMs).toFixed(1)} | ${mbps(median(httpMs))} |`);
say(`| \`curl\` GET of the same file from plain Node http (\`createReadStream().pipe(res)\`) | ${median(rawMs0).toFixed(1)} | ${mbps(median(rawMs0))} |`);
say(`| \`cat > /dev/null\` of the stored file (incl. cat's start) | ${median(catMs).toFixed(1)} | ${mbps(median(catMs))} |`);
say(`| **ratio registry / cat** | **${(median(catMs) / median(httpMs)).toFixed(2)}** | |`);
say(`| ratio registry / plain Node http | ${(median(rawMs0) / median(httpMs)).toFixed(2)} | |`);

// Upload: registry PUT (SHA-256 + size check + temp file + rename + row) vs plain streaming to disk.
const putMs: number[] = [];
const plainMs: number[] = [];
for (let i = 0; i < 9; i++) {
  const body = randomBytes(64 * MiB);
  const bodySha = createHash("sha256").update(body).digest("hex");
  const f = join(home, `up-${i}.bin`);
  await writeFile(f, body);
  plainMs.push(curlMs(`-X PUT --data-binary @${f} '${plain}/'`));
  putMs.push(curlMs(`-X PUT ${auth} --data-binary @${f} '${url}/v1/blobs/${bodySha}?kind=video'`));
  await rm(f);
}
say(`\n| 64 MiB upload with curl (median of 9) | ms |\n| --- | --- |`);
say(`| plain Node http, \`pipeline(req, createWriteStream(file))\` | ${median(plainMs).toFixed(1)} |`);
say(`| registry PUT /v1/blobs (SHA-256 + size check + temp file + rename + row) | ${median(putMs).toFixed(1)} |`);
say(`| **hashing and verification overhead** | **${((median(putMs) / median(plainMs) - 1) * 100).toFixed(1)}%** |`);

// The same two paths without HTTP, to show the CPU cost of hashing alone.
const store = new FsBlobStore(join(home, "upload-bench"));
const chunks = Array.from({ length: 64 }, (_, i) => blob.subarray(i * MiB, (i + 1) * MiB));
const source = () =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(ch);
      c.close();
    },
  });
const rawMs: number[] = [];
const storeMs: number[] = [];
for (let i = 0; i < 7; i++) {
  const target = join(home, `raw-${i}`);
  let t = performance.now();
  const fh = await open(target, "w");
  for (const ch of chunks) await fh.write(ch);
  await fh.close();
  rawMs.push(performance.now() - t);
  await rm(target);
  t = performance.now();
  await store.put(sha, source(), { maxBytes: 256 * MiB, expectedSize: blob.length });
  storeMs.push(performance.now() - t);
  await store.delete(sha);
}
say(`\n| in-process, no HTTP (median of 7) | ms |\n| --- | --- |`);
say(`| 64 × 1 MiB writes to a file | ${median(rawMs).toFixed(1)} |`);
say(`| FsBlobStore.put (hash overlapped with the writes) | ${median(storeMs).toFixed(1)} |`);

// Node and workerd side by side: the same reads and blob transfers against the Node registry above
// and the Worker build under workerd (Miniflare; D1 and R2 on local disk), interleaved in rounds so
// both see the same machine. Each target seeded alike; rate limits far above the load on both
// (the Worker still pays its D1 rate-limit upsert on every request, as deployed).
const wLines: string[] = [];
const wsay = (s: string) => {
  wLines.push(s);
  console.log(s);
};
const startWorker = async (leaseShare?: number) => {
  const args = [new URL("./worker-server.ts", import.meta.url).pathname, ...(leaseShare === undefined ? [] : [String(leaseShare)])];
  const proc = spawn(process.execPath, ["--import", "tsx", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  return {
    proc,
    ...(JSON.parse(await new Promise<string>((ok) => createInterface({ input: proc.stdout! }).once("line", ok))) as { url: string; token: string }),
  };
};
const w = await startWorker();
const wProc = w.proc;
const targets = [
  { name: "node", url, auth },
  { name: "workerd", url: w.url, auth: `-H 'authorization: Bearer ${w.token}'` },
] as const;
wsay(
  `# Registry on Node and on workerd, side by side\n\n${new Date().toISOString()} · Node ${process.version} · workerd (Miniflare ${(await import("miniflare/package.json", { with: { type: "json" } })).default.version}, D1 + R2 on local disk) · ${(await import("node:os")).cpus().length} cores · ${hasWrk ? "wrk -t1 -c32" : "Node closed loop, 32 connections"} · 3 interleaved rounds of ${seconds} s, median round\n`,
);
const scenarios = [
  ["GET a LoRA", "/v1/loras/bench/motion-7"],
  ["search, first page", "/v1/loras?q=orbit&category=single-object&limit=20"],
  ["list newest, first page", "/v1/loras?limit=20"],
] as const;
for (const t of targets) for (const [, path] of scenarios) await measure(path, 1, t.url);
const rounds = new Map<string, { rps: number; p50: number; p99: number; errors: number }[]>();
for (let round = 0; round < 3; round++) {
  for (const [name, path] of scenarios) {
    for (const t of targets) {
      const k = `${name}|${t.name}`;
      rounds.set(k, [...(rounds.get(k) ?? []), await measure(path, seconds, t.url)]);
    }
  }
}
const mid = (k: string) => {
  const rs = [...rounds.get(k)!].sort((a, b) => a.rps - b.rps);
  return rs[1]!;
};
wsay(
  `| scenario (32 connections) | node req/s | workerd req/s | workerd / node | node p50 / p99 ms | workerd p50 / p99 ms | non-2xx |\n| --- | --- | --- | --- | --- | --- | --- |`,
);
for (const [name] of scenarios) {
  const n = mid(`${name}|node`);
  const k = mid(`${name}|workerd`);
  wsay(
    `| ${name} | ${n.rps.toFixed(0)} | ${k.rps.toFixed(0)} | ${(k.rps / n.rps).toFixed(2)} | ${n.p50.toFixed(2)} / ${n.p99.toFixed(2)} | ${k.p50.toFixed(2)} / ${k.p99.toFixed(2)} | ${n.errors + k.errors} |`,
  );
}
// What the rate-limit lease buys: the same GET with a D1 write per request (lease share 0), interleaved with the default.
const perRequest = await startWorker(0);
await measure("/v1/loras/bench/motion-7", 1, perRequest.url);
const leased: number[] = [];
const unleased: number[] = [];
for (let round = 0; round < 3; round++) {
  leased.push((await measure("/v1/loras/bench/motion-7", seconds, w.url)).rps);
  unleased.push((await measure("/v1/loras/bench/motion-7", seconds, perRequest.url)).rps);
}
perRequest.proc.kill("SIGTERM");
await new Promise((ok) => perRequest.proc.once("exit", ok));
wsay(`\n| workerd, GET a LoRA: where its rate-limit tokens come from (median of 3 interleaved rounds) | requests/s |\n| --- | --- |`);
wsay(`| leased from D1, 5% of a minute's allowance a write (\`rateLimitLeaseShare\` 0.05, the default) | ${median(leased).toFixed(0)} |`);
wsay(`| a D1 write per request (\`rateLimitLeaseShare\` 0) | ${median(unleased).toFixed(0)} |`);
wsay(`| **ratio** | **${(median(leased) / median(unleased)).toFixed(1)}×** |`);
// 32 MiB blobs: over the Worker's 16 MiB single put, so the upload goes to R2 in 8 MiB parts.
const wBlobMs = new Map<string, number[]>();
const add = (k: string, ms: number) => wBlobMs.set(k, [...(wBlobMs.get(k) ?? []), ms]);
for (let i = 0; i < 5; i++) {
  const body = randomBytes(32 * MiB);
  const bodySha = createHash("sha256").update(body).digest("hex");
  const f = join(home, `wup-${i}.bin`);
  await writeFile(f, body);
  for (const t of targets) {
    add(`up|${t.name}`, curlMs(`-X PUT ${t.auth} --data-binary @${f} '${t.url}/v1/blobs/${bodySha}?kind=video'`));
    add(`down|${t.name}`, curlMs(`${t.auth} '${t.url}/v1/blobs/${bodySha}'`));
  }
  await rm(f);
}
wsay(`\n| 32 MiB blob with curl (median of 5) | node ms | workerd ms | workerd / node |\n| --- | --- | --- | --- |`);
for (const [label, k] of [
  ["upload (PUT: SHA-256, size check, store, row)", "up"],
  ["download (GET: auth, access check, stream)", "down"],
] as const) {
  const n = median(wBlobMs.get(`${k}|node`)!);
  const m = median(wBlobMs.get(`${k}|workerd`)!);
  wsay(`| ${label} | ${n.toFixed(1)} | ${m.toFixed(1)} | ${(m / n).toFixed(2)} |`);
}
wProc.kill("SIGTERM");
await new Promise((ok) => wProc.once("exit", ok));
const wPage = `${wLines.join("\n")}\n`;
await writeFile(new URL("./results/RESULTS-load-node-workerd.md", import.meta.url), wPage);
await writeFile(
  new URL("./results/RESULTS-load-node-workerd.json", import.meta.url),
  `${JSON.stringify({ at: new Date().toISOString(), tables: markdownTables(wPage) }, null, 1)}\n`,
);

agent.destroy();
server.kill("SIGTERM");
await new Promise((ok) => server.once("exit", ok));
await rm(home, { recursive: true, force: true });
// One results file per benchmark, overwritten each run (history lives in git); the JSON holds the same tables as data.
const page = `${lines.join("\n")}\n`;
await writeFile(new URL("./results/RESULTS-load-sqlite.md", import.meta.url), page);
await writeFile(
  new URL("./results/RESULTS-load-sqlite.json", import.meta.url),
  `${JSON.stringify({ at: new Date().toISOString(), tables: markdownTables(page) }, null, 1)}\n`,
);
