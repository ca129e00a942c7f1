// Hostile-gallery benchmark (issue 26): one write key makes 300 LoRAs with distinct 50 KB
// Markdown-table READMEs, then anonymous clients cycle their gallery pages at a few pages/s each
// (under the gallery's rate limit) while a probe times /healthz. Node and the Worker under local
// workerd; with --before, the same load against another commit's code (default the one before the
// fix), exported with `git archive` and run with this tree's node_modules.
// Usage: npm run bench:hostile-gallery [-- --seconds 20] [--clients 4] [--rate 5] [--before [COMMIT]]
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import http from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && Number(process.argv[i + 1]) > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg("seconds", 20);
const clients = arg("clients", 4);
const rate = arg("rate", 5);
const LORAS = 300;
const beforeAt = process.argv.indexOf("--before");
const beforeCommit = beforeAt < 0 ? null : (process.argv[beforeAt + 1]?.match(/^[0-9a-f]{7,40}$/)?.[0] ?? "8131f61");
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]! : NaN);

/** A 5-column Markdown table of ~49.9 KB whose every cell names README `i` (no two alike). */
function tableReadme(i: number): string {
  const lines = [`# Table ${i}`, "", "| frame | x | y | angle | note |", "| --- | --- | --- | --- | --- |"];
  let size = lines.join("\n").length;
  for (let row = 0; size < 49_850; row++) {
    const line = `| ${row} | ${(i * 7 + row) % 997} | ${(i * 13 + row) % 991} | ${(row * 3) % 360} | r${i}-${row} |`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join("\n").slice(0, 49_990);
}

/** A tree to run: this one, or `commit` exported beside this tree's node_modules. */
async function tree(commit: string | null): Promise<string> {
  if (!commit) return ROOT;
  const dir = await mkdtemp(join(tmpdir(), `motion-lora-before-${commit}-`));
  const paths = [
    "registry",
    "sdk",
    "package.json",
    "tsconfig.json",
    ...["manifest.json", "vocab.json", "grammar.json"].map((f) => `gpu-runner/artifacts/${f}`),
  ];
  const tar = execFileSync("git", ["-C", ROOT, "archive", "--format=tar", commit, ...paths], { maxBuffer: 1 << 28 });
  execFileSync("tar", ["-x", "-C", dir], { input: tar });
  await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

interface Server {
  proc: ChildProcess;
  url: string;
  token: string;
}

/** The existing benchmark servers (bench/server.ts, bench/worker-server.ts) of a tree, in their own process. */
async function start(dir: string, target: "node" | "workerd"): Promise<Server> {
  const script = join(dir, "registry/bench", target === "node" ? "server.ts" : "worker-server.ts");
  const args = target === "node" ? [script, await mkdtemp(join(tmpdir(), "motion-lora-hostile-")), "1000"] : [script];
  const proc = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
  const first = await new Promise<string>((ok, fail) => {
    createInterface({ input: proc.stdout! }).once("line", ok);
    proc.once("exit", (code) => fail(new Error(`${script} exited with ${code}`)));
  });
  return { proc, ...(JSON.parse(first) as { url: string; token: string }) };
}

function request(
  agent: http.Agent,
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; ms: number; bytes: number }> {
  const t = performance.now();
  return new Promise((ok, fail) => {
    const req = http.request(url, { method, agent, headers }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => ok({ status: res.statusCode ?? 0, ms: performance.now() - t, bytes }));
    });
    req.on("error", fail);
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.end(body);
  });
}

/** 300 LoRAs under one owner, 8 creates in flight (an admin key stands in for the tenant's write key). */
async function seed(s: Server) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const headers = { authorization: `Bearer ${s.token}`, "content-type": "application/json" };
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < LORAS) {
        const i = next++;
        const body = JSON.stringify({ name: `table-${i}`, owner: "tenant", title: `Table ${i}`, category: "single-object", readme: tableReadme(i) });
        const r = await request(agent, `${s.url}/v1/loras`, "POST", headers, body);
        if (r.status !== 201) throw new Error(`seeding table-${i}: HTTP ${r.status}`);
      }
    }),
  );
  agent.destroy();
}

/** `clients` visitors, each from its own address on workerd (cf-connecting-ip), cycling the pages at `rate`/s; a probe times /healthz. */
async function attack(s: Server, visitors = clients) {
  const end = performance.now() + seconds * 1000;
  const pages: number[] = [];
  let refused = 0;
  const visitor = async (k: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const t0 = performance.now();
    for (let n = 0; performance.now() < end; n++) {
      const due = t0 + (n * 1000) / rate;
      if (due > performance.now()) await new Promise((ok) => setTimeout(ok, due - performance.now()));
      const i = (k * Math.floor(LORAS / clients) + n) % LORAS;
      const r = await request(agent, `${s.url}/loras/tenant/table-${i}`, "GET", { "cf-connecting-ip": `192.0.2.${k + 1}` });
      if (r.status === 200) pages.push(r.ms);
      else refused++;
    }
    agent.destroy();
  };
  const health: number[] = [];
  const probe = async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (performance.now() < end) {
      const r = await request(agent, `${s.url}/healthz`, "GET", {});
      if (r.status === 200) health.push(r.ms);
      await new Promise((ok) => setTimeout(ok, 100));
    }
    agent.destroy();
  };
  await Promise.all([probe(), ...Array.from({ length: visitors }, (_, k) => visitor(k))]);
  return { pages, refused, health };
}

const lines: string[] = [];
const say = (s: string) => {
  lines.push(s);
  console.log(s);
};
say(
  `# Hostile gallery benchmark\n\n${new Date().toISOString()} · Node ${process.version} · ${cpus().length} cores (shared) · ${LORAS} LoRAs with distinct ~50 KB 5-column table READMEs · ${clients} anonymous clients × ${rate} pages/s each, cycling the LoRA pages, for ${seconds} s · /healthz probed every 100 ms on its own connection · load generator, Node registry and workerd (Miniflare, D1 + R2 on local disk) on one machine · 1-minute load average at the start ${loadavg()[0]!.toFixed(1)}\n`,
);
say("| code | target | pages served/s | page p50 / p99 ms | /healthz p50 / p99 / max ms (n) | refused pages |\n| --- | --- | --- | --- | --- | --- |");
const variants: [string, string | null][] = [
  ...(beforeCommit ? ([[`before (${beforeCommit})`, beforeCommit]] as [string, string][]) : []),
  ["after (this tree)", null],
];
for (const [label, commit] of variants) {
  const dir = await tree(commit);
  for (const target of ["node", "workerd"] as const) {
    const s = await start(dir, target);
    try {
      await seed(s);
      const f = (x: number) => x.toFixed(1);
      // The same probe with no visitors: what this machine (shared, loaded) gives /healthz anyway.
      const idle = await attack(s, 0);
      say(
        `| ${label} | ${target}, no visitors (control) | – | – | ${f(pct(idle.health, 50))} / ${f(pct(idle.health, 99))} / ${f(pct(idle.health, 100))} (${idle.health.length}) | – |`,
      );
      const r = await attack(s);
      say(
        `| ${label} | ${target} | ${f(r.pages.length / seconds)} | ${f(pct(r.pages, 50))} / ${f(pct(r.pages, 99))} | ${f(pct(r.health, 50))} / ${f(pct(r.health, 99))} / ${f(pct(r.health, 100))} (${r.health.length}) | ${r.refused} |`,
      );
    } finally {
      s.proc.kill("SIGTERM");
      await new Promise((ok) => s.proc.once("exit", ok));
    }
  }
  if (commit) await rm(dir, { recursive: true, force: true });
}
say(
  `\nTarget: /healthz p99 under 50 ms on both targets with this load. 1-minute load average at the end: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores (other work shares this machine).`,
);
await mkdir(new URL("./results/", import.meta.url), { recursive: true });
await writeFile(new URL("./results/RESULTS-hostile-gallery.md", import.meta.url), `${lines.join("\n")}\n`);
