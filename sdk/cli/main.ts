import { readFile, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { MotionLora } from "../client/client.ts";
import { APIConnectionError, APITimeoutError, AuthenticationError, JobFailedError, MotionLoraError, NotFoundError, PermissionDeniedError } from "../client/errors.ts";
import { MotionCategory, TuneOptions } from "../schema/index.ts";
import { configPath, resolveConfig, saveConfig } from "./config.ts";
import { progressBar } from "./progress.ts";

const USAGE = `motion-lora — copy the motion of a video onto new content, and share it as a LoRA

Usage:
  motion-lora login --registry URL --token TOKEN       check the key and save both for later commands
  motion-lora search [QUERY] [--category C] [--owner O] [--sort newest|downloads] [--limit N]
  motion-lora show OWNER/NAME[@VERSION]
  motion-lora push FILE.safetensors --lora OWNER/NAME [--title T --category C] [--notes TEXT] [--preview FILE]
  motion-lora pull OWNER/NAME[@VERSION] [-o FILE]
  motion-lora tune CLIP --prompt "caption of the clip" --lora OWNER/NAME [--title T --category C]
                   [--spatial-steps N] [--temporal-steps N] [--sampling dense|strided|random] [--seed N] [-o preview.gif]
                   (defaults carry the most motion; --sampling strided --temporal-steps 800 is ~8× faster, weaker)
  motion-lora generate --prompt "new prompt" [--lora OWNER/NAME[@VERSION][:WEIGHT] ...] -o out.gif
                   [--steps N] [--guidance G] [--seed N]
  motion-lora jobs [list] [--status S] | jobs show ID | jobs cancel ID | jobs watch ID
  motion-lora vocab                                     the words the bundled model understands
  motion-lora registry start [--port 8787] [--host 127.0.0.1] [--runner local|webhook|off]
                   [--runner-webhook URL]   (local: starts a CPU runner on demand; the default)
  motion-lora runner start --registry URL --token TOKEN [--engine onnx|torch|auto] [--provider cpu|webgpu|cuda]
                   [--concurrency N] [--idle-exit SECONDS] [--lease-seconds N] [--cache DIR]
  motion-lora keys create --owner NAME [--scope read,write] [--name TEXT] [--rate-limit N]
  motion-lora keys list | keys revoke KEY_ID

Common flags: --registry URL, --token TOKEN (or MOTION_LORA_REGISTRY / MOTION_LORA_TOKEN, or login),
--json (machine-readable output on stdout).
CLIP: an animated GIF, a clip PNG, a folder of PNG frames, or MP4/WebM (needs ffmpeg).
Exit codes: 0 ok · 1 the operation or job failed · 2 bad command line · 3 authentication or
permission · 4 not found · 5 registry unreachable or timed out.
MOTION_LORA_HOME (default ./.motion-lora) holds the embedded registry's database and blobs;
key commands act on that database directly: they are how the first admin key is made.`;

class UsageError extends Error {}

const COMMON = { registry: { type: "string" }, token: { type: "string" }, json: { type: "boolean" } } as const;

function args<O extends ParseArgsConfig["options"]>(argv: string[], options: O, positionals = true) {
  try {
    return parseArgs({ args: argv, options: { ...COMMON, ...options }, allowPositionals: positionals });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

async function client(flags: { registry?: string | undefined; token?: string | undefined }) {
  const c = await resolveConfig(flags);
  return new MotionLora({ baseUrl: c.registry, ...(c.token ? { apiKey: c.token } : {}) });
}

const out = (json: boolean | undefined, value: unknown, text: string) => console.log(json ? JSON.stringify(value, null, 2) : text);

/** `owner/name[@version][:weight]` → a generate LoRA entry. */
function loraArg(s: string): { ref: string; weight: number } {
  const m = /^([^:]+)(?::(-?[0-9.]+))?$/.exec(s);
  if (!m) throw new UsageError(`--lora '${s}' must be OWNER/NAME[@VERSION][:WEIGHT]`);
  const weight = m[2] === undefined ? 1 : Number(m[2]);
  if (!Number.isFinite(weight)) throw new UsageError(`--lora '${s}': the weight must be a number`);
  return { ref: m[1]!, weight };
}

function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got '${v}'`);
  return n;
}

function category(v: string | undefined) {
  if (v === undefined) return undefined;
  const c = MotionCategory.safeParse(v);
  if (!c.success) throw new UsageError(`--category must be one of ${MotionCategory.options.join(", ")}`);
  return c.data;
}

async function run(argv: string[]): Promise<number> {
  const [group, command, ...rest] = argv;
  if (group === undefined || group === "help" || group === "--help" || group === "-h") {
    console.log(USAGE);
    return 0;
  }
  switch (group) {
    case "login": {
      const { values } = args(argv.slice(1), {}, false);
      if (!values.registry || !values.token) throw new UsageError("login needs --registry URL and --token TOKEN");
      const me = await new MotionLora({ baseUrl: values.registry, apiKey: values.token }).me();
      if (!me.owner) throw new AuthenticationError(401, "invalid_api_key", "the registry did not recognise this token", null);
      const path = await saveConfig({ registry: values.registry, token: values.token });
      out(values.json, me, `logged in to ${values.registry} as '${me.owner}' (scopes ${me.scopes.join(",")}); saved in ${path}`);
      return 0;
    }
    case "search": {
      const { values, positionals } = args(argv.slice(1), { category: { type: "string" }, owner: { type: "string" }, sort: { type: "string" }, limit: { type: "string" } });
      const c = await client(values);
      const page = await c.loras.page({
        ...(positionals[0] && { q: positionals.join(" ") }),
        ...(values.category && { category: category(values.category) }),
        ...(values.owner && { owner: values.owner }),
        ...(values.sort && { sort: values.sort as "newest" }),
        limit: intFlag("limit", values.limit) ?? 20,
      });
      out(values.json, page, page.data.map((l) => `${`${l.owner}/${l.name}`.padEnd(32)} v${l.latest_version ?? "-"}  ${l.category.padEnd(16)} ${String(l.downloads).padStart(6)}↓  ${l.title}`).join("\n") || "no LoRAs match");
      return 0;
    }
    case "show": {
      const { values, positionals } = args(argv.slice(1), {});
      const ref = positionals[0];
      if (!ref) throw new UsageError("show needs OWNER/NAME[@VERSION]");
      const c = await client(values);
      if (ref.includes("@")) {
        const v = await c.versions.get(ref);
        out(values.json, v, `${v.owner}/${v.name}@${v.version}  ${v.stage} LoRA, rank ${v.rank}, ${v.file_size} bytes, base ${v.base_model_id}\nsha256 ${v.file_sha256}\ntarget heads ${JSON.stringify(v.target_heads)}\n${v.notes}`);
        return 0;
      }
      const lora = await c.loras.get(ref);
      const versions = [];
      for await (const v of c.versions.list(ref)) versions.push(v);
      out(values.json, { ...lora, versions }, `${lora.owner}/${lora.name} — ${lora.title}\n${lora.category} · ${lora.visibility} · ${lora.license} · ${lora.downloads} downloads · tags ${lora.tags.join(", ") || "none"}\n${lora.description}\n\n${versions.map((v) => `  v${v.version}  ${v.created_at}  ${v.stage} rank ${v.rank}  ${v.file_sha256.slice(0, 12)}…  ${v.notes}`).join("\n") || "  no versions yet"}`);
      return 0;
    }
    case "push": {
      const { values, positionals } = args(argv.slice(1), { lora: { type: "string" }, title: { type: "string" }, category: { type: "string" }, notes: { type: "string" }, preview: { type: "string" } });
      const file = positionals[0];
      if (!file || !values.lora) throw new UsageError("push needs FILE.safetensors and --lora OWNER/NAME");
      const c = await client(values);
      await ensureLora(c, values.lora, values.title, category(values.category));
      const bytes = new Uint8Array(await readFile(file));
      const blob = await c.blobs.upload(bytes, "lora");
      const preview = values.preview ? await c.blobs.upload(new Uint8Array(await readFile(values.preview)), "preview") : null;
      const v = await c.versions.create(values.lora, { file_sha256: blob.sha256, ...(preview && { preview_sha256: preview.sha256 }), ...(values.notes && { notes: values.notes }) });
      out(values.json, v, `published ${v.owner}/${v.name}@${v.version} (${v.stage}, rank ${v.rank}, sha256 ${v.file_sha256.slice(0, 12)}…)`);
      return 0;
    }
    case "pull": {
      const { values, positionals } = args(argv.slice(1), { output: { type: "string", short: "o" } });
      const ref = positionals[0];
      if (!ref) throw new UsageError("pull needs OWNER/NAME[@VERSION]");
      const c = await client(values);
      const { version, bytes } = await c.versions.download(ref);
      const path = values.output ?? `${version.owner}-${version.name}-v${version.version}.safetensors`;
      await writeFile(path, bytes);
      out(values.json, { ...version, path }, `saved ${version.owner}/${version.name}@${version.version} to ${path} (${bytes.length} bytes, sha256 verified)`);
      return 0;
    }
    case "tune": {
      const { values, positionals } = args(argv.slice(1), {
        prompt: { type: "string" }, lora: { type: "string" }, title: { type: "string" }, category: { type: "string" },
        "spatial-steps": { type: "string" }, "temporal-steps": { type: "string" }, sampling: { type: "string" }, seed: { type: "string" }, output: { type: "string", short: "o" },
      });
      const sampling = values.sampling === undefined ? undefined : TuneOptions.shape.sampling.safeParse(values.sampling);
      if (sampling && !sampling.success) throw new UsageError(`--sampling must be dense, strided or random, got '${values.sampling}'`);
      const clipPath = positionals[0];
      if (!clipPath || !values.prompt || !values.lora) throw new UsageError("tune needs CLIP, --prompt and --lora OWNER/NAME");
      const { readVideoFile, writeVideoFile } = await import("../node.ts");
      const c = await client(values);
      const video = await readVideoFile(clipPath);
      const cat = category(values.category);
      const bar = progressBar(`tune ${basename(clipPath)}`);
      const options = {
        ...(values["spatial-steps"] && { spatial_steps: intFlag("spatial-steps", values["spatial-steps"]) }),
        ...(values["temporal-steps"] && { temporal_steps: intFlag("temporal-steps", values["temporal-steps"]) }),
        ...(sampling?.data && { sampling: sampling.data }),
        ...(values.seed && { seed: intFlag("seed", values.seed) }),
      };
      const v = await c.tune({
        video, prompt: values.prompt, lora: values.lora, options,
        create: { title: values.title ?? values.lora.split("/")[1]!, category: cat ?? "single-object" },
        onProgress: (p) => bar.update(p), signal: interrupt(),
      }).finally(() => bar.done());
      if (values.output && v.preview_sha256) await writeFile(values.output, await c.blobs.download(v.preview_sha256));
      else if (values.output) await writeVideoFile(values.output, video);
      out(values.json, v, `published ${v.owner}/${v.name}@${v.version}: generate with --lora ${v.owner}/${v.name}@${v.version}`);
      return 0;
    }
    case "generate": {
      const { values } = args(argv.slice(1), {
        prompt: { type: "string" }, lora: { type: "string", multiple: true }, output: { type: "string", short: "o" },
        steps: { type: "string" }, guidance: { type: "string" }, seed: { type: "string" },
      }, false);
      if (!values.prompt || !values.output) throw new UsageError("generate needs --prompt and -o OUT.gif|.png|.mp4");
      const { writeVideoFile } = await import("../node.ts");
      const c = await client(values);
      const bar = progressBar("generate");
      const guidance = values.guidance === undefined ? undefined : Number(values.guidance);
      if (guidance !== undefined && !Number.isFinite(guidance)) throw new UsageError("--guidance must be a number");
      const r = await c.generate({
        prompt: values.prompt,
        loras: (values.lora ?? []).map(loraArg),
        options: { ...(values.steps && { steps: intFlag("steps", values.steps) }), ...(guidance !== undefined && { guidance }), ...(values.seed && { seed: intFlag("seed", values.seed) }) },
        onProgress: (p) => bar.update(p), signal: interrupt(),
      }).finally(() => bar.done());
      await writeVideoFile(values.output, r.frames);
      out(values.json, { job: r.job, path: values.output }, `wrote ${values.output} (${r.frames.count} frames of ${r.frames.width}×${r.frames.height}; job ${r.job.id})`);
      return 0;
    }
    case "jobs": {
      const sub = command && !command.startsWith("-") ? command : "list";
      const { values, positionals } = args(command && !command.startsWith("-") ? rest : argv.slice(1), { status: { type: "string" }, limit: { type: "string" } });
      const c = await client(values);
      if (sub === "list") {
        const jobs = [];
        for await (const j of c.jobs.list(values.status ? { status: values.status as "queued" } : {})) {
          jobs.push(j);
          if (jobs.length >= (intFlag("limit", values.limit) ?? 20)) break;
        }
        out(values.json, jobs, jobs.map((j) => `${j.id}  ${j.kind.padEnd(8)} ${j.status.padEnd(9)} ${(j.progress * 100).toFixed(0).padStart(3)}%  ${j.created_at}${j.error ? `  ${j.error.code}: ${j.error.message}` : ""}`).join("\n") || "no jobs");
        return 0;
      }
      const id = positionals[0];
      if (!id) throw new UsageError(`jobs ${sub} needs a job id`);
      if (sub === "show") {
        const j = await c.jobs.get(id);
        out(values.json, j, JSON.stringify(j, null, 2));
        return 0;
      }
      if (sub === "cancel") {
        const j = await c.jobs.cancel(id);
        out(values.json, j, `job ${j.id} is ${j.status}`);
        return 0;
      }
      if (sub === "watch") {
        const bar = progressBar(id);
        const j = await c.jobs.wait(id, { cancelOnAbort: false, onEvent: (e) => bar.update({ status: String(e.data.status ?? ""), stage: (e.data.stage as string) ?? null, progress: Number(e.data.progress ?? 0), message: (e.data.message as string) ?? null }) }).finally(() => bar.done());
        out(values.json, j, `job ${j.id} ${j.status}`);
        return 0;
      }
      throw new UsageError(`unknown jobs command '${sub}'`);
    }
    case "vocab": {
      const { values } = args(argv.slice(1), {}, false);
      const { DEFAULT_ARTIFACTS } = await import("../../gpu-runner/engine/manifest.ts");
      const vocab = JSON.parse(await readFile(`${DEFAULT_ARTIFACTS}/vocab.json`, "utf8")) as unknown;
      out(values.json, vocab, JSON.stringify(vocab));
      return 0;
    }
    case "registry": {
      if (command !== "start") break;
      const { values } = args(rest, { port: { type: "string" }, host: { type: "string" }, runner: { type: "string" }, "runner-webhook": { type: "string" } }, false);
      const mode = values.runner ?? process.env.MOTION_LORA_RUNNER ?? (values["runner-webhook"] ? "webhook" : "local");
      if (!["local", "webhook", "off"].includes(mode)) throw new UsageError("--runner must be local, webhook or off");
      const hook = values["runner-webhook"] ?? process.env.MOTION_LORA_RUNNER_WEBHOOK;
      if (mode === "webhook" && !hook) throw new UsageError("--runner webhook needs --runner-webhook URL (or MOTION_LORA_RUNNER_WEBHOOK)");
      const { startRegistry } = await import("../../registry/node.ts");
      const r = await startRegistry({
        ...(values.port && { port: intFlag("port", values.port)! }),
        ...(values.host && { host: values.host }),
        runner: mode as "local",
        ...(hook && { runnerWebhookUrl: hook }),
        ...(process.env.MOTION_LORA_RUNNER_WEBHOOK_SECRET && { runnerWebhookSecret: process.env.MOTION_LORA_RUNNER_WEBHOOK_SECRET }),
      });
      console.error(`motion-lora registry listening on ${r.url} (data in ${r.home}); API docs at ${r.url}/docs`);
      await new Promise<void>((done) => {
        const stop = () => void r.stop().then(done);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      return 0;
    }
    case "runner": {
      if (command !== "start") break;
      const { values } = args(rest, { provider: { type: "string" }, concurrency: { type: "string" }, "idle-exit": { type: "string" }, cache: { type: "string" }, "lease-seconds": { type: "string" }, engine: { type: "string" } }, false);
      const cfg = await resolveConfig(values);
      if (!cfg.token) throw new UsageError("runner start needs --token (a key with the 'runner' scope)");
      if (values.provider && !["cpu", "webgpu", "cuda"].includes(values.provider)) throw new UsageError("--provider must be cpu, webgpu or cuda");
      if (values.engine && !["onnx", "torch", "auto"].includes(values.engine)) throw new UsageError("--engine must be onnx, torch or auto");
      const { runRunner } = await import("../../gpu-runner/runner/start.ts");
      const idle = values["idle-exit"] === undefined ? null : Number(values["idle-exit"]);
      if (idle !== null && !(idle >= 0)) throw new UsageError("--idle-exit must be a number of seconds");
      await runRunner({
        registry: cfg.registry, token: cfg.token,
        ...(values.provider && { provider: values.provider as "cpu" }),
        ...(values.engine && { engine: values.engine as "onnx" }),
        ...(values.concurrency && { concurrency: intFlag("concurrency", values.concurrency)! }),
        ...(values.cache && { cacheDir: values.cache }),
        ...(values["lease-seconds"] && { leaseSeconds: intFlag("lease-seconds", values["lease-seconds"])! }),
        idleExitMs: idle === null ? null : idle * 1000,
      });
      return 0;
    }
    case "keys": {
      const { keysCommand } = await import("../../registry/cli/keys.ts");
      return keysCommand(command, rest);
    }
  }
  throw new UsageError(`unknown command '${argv.join(" ")}'`);
}

/** Creates `owner/name` when it does not exist yet (needs --category). */
async function ensureLora(c: MotionLora, ref: string, title: string | undefined, cat: ReturnType<typeof category>) {
  try {
    await c.loras.get(ref);
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
    if (!cat) throw new UsageError(`${ref} does not exist yet; add --category (${MotionCategory.options.join(", ")}) and optionally --title to create it`);
    const [owner, name] = ref.split("/") as [string, string];
    await c.loras.create({ owner, name, title: title ?? name, category: cat });
  }
}

/** Ctrl-C aborts the running job (the SDK cancels it on the registry) instead of leaving it behind. */
function interrupt(): AbortSignal {
  const ctl = new AbortController();
  process.once("SIGINT", () => ctl.abort(new MotionLoraError("interrupted; the job was canceled", "interrupted")));
  return ctl.signal;
}

/** Exit codes: 0 ok, 1 failed, 2 bad command line, 3 auth/permission, 4 not found, 5 unreachable. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\nRun 'motion-lora help' for usage.`);
      return 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    console.error(`error: ${msg}`);
    if (e instanceof AuthenticationError || e instanceof PermissionDeniedError) {
      console.error(`check the token (motion-lora login, or --token; saved config: ${configPath()})`);
      return 3;
    }
    if (e instanceof NotFoundError) return 4;
    if (e instanceof APIConnectionError || e instanceof APITimeoutError) return 5;
    if (e instanceof JobFailedError || e instanceof MotionLoraError) return 1;
    if (!(e instanceof Error) || !("code" in e)) console.error(e);
    return 1;
  }
}
