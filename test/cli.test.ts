// The CLI as users run it: real processes against a real registry, checking output and exit codes.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { FfmpegMissingError, readVideoFile } from "../sdk/node.ts";
import { loraFile } from "./helpers/lora-file.ts";
import { cli } from "./helpers/processes.ts";
import { startTestRegistry, type TestRegistry } from "./helpers/registry.ts";

let reg: TestRegistry;
let token: string;
let dir: string;
/** Runs the CLI to its exit; with `killAfterMs`, a process still running then is killed (code null). */
const run = async (args: string[], env: Record<string, string> = {}, killAfterMs?: number) => {
  const p = cli(args, { XDG_CONFIG_HOME: dir, MOTION_LORA_REGISTRY: "", MOTION_LORA_TOKEN: "", ...env });
  const kill = killAfterMs === undefined ? undefined : setTimeout(() => p.child.kill("SIGKILL"), killAfterMs);
  const { code } = await p.exited;
  clearTimeout(kill);
  return { code, out: p.lines.join("\n") };
};

before(async () => {
  reg = await startTestRegistry();
  token = await reg.key("alice");
  dir = await mkdtemp(join(tmpdir(), "motion-lora-cli-"));
});
after(() => reg.stop());

describe("motion-lora CLI", () => {
  it("logs in, pushes a LoRA file, finds it, shows and pulls it verified", async () => {
    assert.equal((await run(["login", "--registry", reg.url, "--token", "mlk_nope"])).code, 3, "a bad token is an auth failure");
    const login = await run(["login", "--registry", reg.url, "--token", token]);
    assert.equal(login.code, 0, login.out);
    assert.match(await readFile(join(dir, "motion-lora", "config.json"), "utf8"), /mlk_/);
    const file = join(dir, "wave.safetensors");
    await writeFile(file, loraFile());
    const missing = await run(["push", file, "--lora", "alice/wave"]);
    assert.equal(missing.code, 2, "creating a LoRA needs --category");
    assert.match(missing.out, /--category/);
    const push = await run(["push", file, "--lora", "alice/wave", "--category", "human-motion", "--title", "Wave"]);
    assert.equal(push.code, 0, push.out);
    assert.match(push.out, /published alice\/wave@1/);
    const search = await run(["search", "wave", "--json"]);
    assert.equal(JSON.parse(search.out).data[0].name, "wave");
    assert.match((await run(["show", "alice/wave"])).out, /v1 .* rank/);
    const pulled = join(dir, "pulled.safetensors");
    assert.equal((await run(["pull", "alice/wave@1", "-o", pulled])).code, 0);
    assert.deepEqual(new Uint8Array(await readFile(pulled)), loraFile());
  });

  it("publishes a card (description, README, tags, licence, visibility, preview) the gallery shows, and shows and pulls it back", async () => {
    const file = join(dir, "orbit.safetensors");
    await writeFile(file, loraFile({ tuning_config: JSON.stringify({ caption: "a white diamond on a striped black background" }) }));
    const readme = join(dir, "ORBIT.md");
    await writeFile(readme, "# Orbit\n\nA slow orbit.");
    const bad = await run(["push", file, "--lora", "alice/orbit", "--category", "single-object", "--visibility", "secret"]);
    assert.equal(bad.code, 2, "a bad flag value is a usage error, before anything is sent");
    assert.match(bad.out, /--visibility must be one of public, private/);
    assert.equal((await reg.call("GET", "/v1/loras/alice/orbit", { token })).status, 404);
    const args = [
      "--lora",
      "alice/orbit",
      "--category",
      "single-object",
      "--title",
      "Orbit",
      "--description",
      "A slow orbit",
      "--readme",
      readme,
      "--tags",
      "orbit, slow",
      "--license",
      "mit",
      "--preview",
      "examples/clips/single-object-1.gif",
      "--sample",
      "a red circle on a gradient navy background=examples/clips/single-object-2.gif",
    ];
    const push = await run(["push", file, ...args]);
    assert.equal(push.code, 0, push.out);
    assert.match(push.out, new RegExp(`published alice/orbit@1 .*${reg.url}/loras/alice/orbit`));
    const lora = (await reg.call("GET", "/v1/loras/alice/orbit", { token })).body;
    assert.deepEqual(
      [lora.description, lora.readme, lora.tags, lora.license, lora.visibility],
      ["A slow orbit", "# Orbit\n\nA slow orbit.", ["orbit", "slow"], "mit", "public"],
    );
    const page = await (await fetch(`${reg.url}/loras/alice/orbit`)).text();
    assert.match(page, /<h1>Orbit<\/h1>[\s\S]*A slow orbit/);
    assert.match(page, /Its motion on a new prompt: “a red circle on a gradient navy background”/);
    const show = await run(["show", "alice/orbit"]);
    assert.match(show.out, new RegExp(`gallery ${reg.url}/loras/alice/orbit`));
    assert.match(show.out, new RegExp(`preview ${reg.url}/media/[0-9a-f]{64}`));
    assert.match(show.out, /caption "a white diamond on a striped black background"/);
    assert.deepEqual(
      JSON.parse((await run(["search", "--tag", "slow", "--json"])).out).data.map((l: { name: string }) => l.name),
      ["orbit"],
    );
    const pulled = join(dir, "orbit-pulled.safetensors");
    const pull = await run(["pull", "alice/orbit", "-o", pulled, "--preview"]);
    assert.equal(pull.code, 0, pull.out);
    assert.deepEqual(await readFile(join(dir, "orbit-pulled.gif")), await readFile("examples/clips/single-object-1.gif"));
    const hide = await run(["push", file, "--lora", "alice/orbit", "--visibility", "private"]);
    assert.equal(hide.code, 0, hide.out);
    assert.equal((await fetch(`${reg.url}/loras/alice/orbit`)).status, 404, "a private LoRA leaves the gallery");
  });

  it("exits with codes that mean something", async () => {
    assert.equal((await run(["show", "alice/nothing-here"])).code, 4);
    assert.equal((await run(["generate", "--prompt", "a red circle on a black background"])).code, 2, "no -o");
    assert.equal((await run(["frobnicate"])).code, 2);
    const sampling = await run([
      "tune",
      "examples/clips/camera-motion-1.png",
      "--prompt",
      "a red circle on a black background",
      "--lora",
      "alice/x",
      "--sampling",
      "sparse",
    ]);
    assert.equal(sampling.code, 2, "an unknown --sampling is refused before any upload");
    assert.match(sampling.out, /--sampling must be dense, strided or random/);
    assert.equal((await run(["search", "--registry", "http://127.0.0.1:9"])).code, 5);
  });

  it("helps: --version, per-command --help, did-you-mean, file errors, outputs checked before any job", async () => {
    const version = await run(["--version"]);
    assert.equal(version.code, 0);
    assert.equal(version.out.trim(), JSON.parse(await readFile("package.json", "utf8")).version);
    assert.equal((await run(["registry", "start", "--log", "loud"])).code, 2, "an unknown log format is refused before the registry starts");
    const typo = await run(["genrate"]);
    assert.equal(typo.code, 2);
    assert.match(typo.out, /did you mean 'generate'\?/);
    const help = await run(["tune", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out, /motion-lora tune CLIP --prompt/);
    assert.doesNotMatch(help.out, /motion-lora push/, "only the command asked about");
    const missing = await run(["push", join(dir, "nothing.safetensors"), "--lora", "alice/x", "--registry", reg.url, "--token", token]);
    assert.equal(missing.code, 2);
    assert.match(missing.out, /no such file or folder: .*nothing\.safetensors/);
    const jobsBefore = (await reg.call("GET", "/v1/jobs", { token })).body.data.length;
    const webp = await run(["generate", "--prompt", "a red circle on a black background", "-o", join(dir, "x.webp"), "--registry", reg.url, "--token", token]);
    assert.equal(webp.code, 2);
    assert.match(webp.out, /use \.gif, \.png, \.mp4 or \.webm/);
    const mp4 = await run(["generate", "--prompt", "a red circle on a black background", "-o", join(dir, "x.mp4"), "--registry", reg.url, "--token", token], {
      FFMPEG: "/nonexistent/ffmpeg",
    });
    assert.equal(mp4.code, 1);
    assert.match(mp4.out, /need ffmpeg/);
    assert.equal((await reg.call("GET", "/v1/jobs", { token })).body.data.length, jobsBefore, "no job was queued for an output that could not be written");
  });

  it("Ctrl-C cancels the running job and exits 130", async () => {
    const p = cli(["generate", "--prompt", "a red circle on a black background", "-o", join(dir, "never.gif"), "--registry", reg.url, "--token", token], {
      XDG_CONFIG_HOME: dir,
    });
    let job: { id: string; status: string } | undefined;
    for (let i = 0; i < 200 && !job; i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = ((await reg.call("GET", "/v1/jobs", { token })).body.data as { id: string; status: string; kind: string }[]).find(
        (j) => j.kind === "generate" && j.status === "queued",
      );
    }
    assert.ok(job, "the job was created");
    p.child.kill("SIGINT");
    assert.equal((await p.exited).code, 130);
    assert.equal((await reg.call("GET", `/v1/jobs/${job.id}`, { token })).body.status, "canceled");
  });

  it("vocab asks the registry for the model's grammar and words, and prints them readably", async () => {
    const v = await run(["vocab", "--registry", reg.url, "--json"]);
    assert.equal(v.code, 0, v.out);
    const m = JSON.parse(v.out);
    assert.ok(m.vocabulary.includes("circle"));
    const text = await run(["vocab", "--registry", reg.url]);
    assert.match(text.out, /^CAPTION += {1,2}OBJECTS \[OBJECT_MOTION\] SETTING$/m);
    assert.match(text.out, /^BACKGROUND_COLOUR +background colours: black, gray, navy, maroon, olive, teal$/m);
    assert.match(text.out, /^ {2}a .* background/m, "example captions");
    assert.doesNotMatch(text.out, /<pad>|<cls>|\{/, "no tokenizer tokens or raw JSON");
    assert.equal((await run(["vocab", "--registry", "http://127.0.0.1:9"])).code, 5, "no registry, no words");
  });

  it("a runner with --idle-exit leaves when there is no work", async () => {
    const runnerToken = await reg.key("idle-runner", ["runner"]);
    const t0 = Date.now();
    const r = await run(["runner", "start", "--registry", reg.url, "--idle-exit", "1"], { MOTION_LORA_TOKEN: runnerToken });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /idle; exiting/);
    assert.ok(Date.now() - t0 < 30_000);
  });

  it("a runner set up by its environment alone (the container image's way) takes each setting from it; a flag wins", async () => {
    const runnerToken = await reg.key("env-runner", ["runner"]);
    // Without MOTION_LORA_IDLE_EXIT it would run forever: bounded here.
    const { code, out } = await run(
      ["runner", "start", "--provider", "cpu"],
      {
        MOTION_LORA_REGISTRY: reg.url,
        MOTION_LORA_TOKEN: runnerToken,
        MOTION_LORA_ENGINE: "onnx",
        MOTION_LORA_PROVIDER: "not-a-provider",
        MOTION_LORA_CONCURRENCY: "2",
        MOTION_LORA_IDLE_EXIT: "1",
        MOTION_LORA_LEASE_SECONDS: "9",
        MOTION_LORA_CACHE: join(dir, "env-cache"),
      },
      30_000,
    );
    assert.equal(code, 0, `left on MOTION_LORA_IDLE_EXIT: ${out}`);
    assert.match(out, /"msg":"runner started".*"engine":"onnx:cpu".*"concurrency":2/);
    assert.match(out, /idle; exiting/);
  });

  it("a wrong runner variable is a usage error that names the variable", async () => {
    const base = { MOTION_LORA_REGISTRY: reg.url, MOTION_LORA_TOKEN: "mlk_unused" };
    for (const [name, value] of [
      // One of each check (a choice, an integer, seconds); the others share them.
      ["MOTION_LORA_ENGINE", "jax"],
      ["MOTION_LORA_LEASE_SECONDS", "1.5"],
      ["MOTION_LORA_IDLE_EXIT", "soon"],
    ] as const) {
      const r = await run(["runner", "start"], { ...base, [name]: value }, 15_000);
      assert.equal(r.code, 2, `${name}=${value}: ${r.out}`);
      assert.match(r.out, new RegExp(`${name} must be .*'${value.replace(".", "\\.")}'`));
    }
    const none = await run(["runner", "start"], { MOTION_LORA_REGISTRY: reg.url }, 15_000);
    assert.equal(none.code, 2);
    assert.match(none.out, /MOTION_LORA_TOKEN/, "says which variable carries the token");
  });

  it("runs `runner start` from the runner image's tree, which has no registry/ (gpu-runner/container/runner-tree.mjs)", async () => {
    const root = await mkdtemp(join(tmpdir(), "motion-lora-runner-tree-"));
    const repo = fileURLToPath(new URL("../", import.meta.url));
    const made = spawnSync(process.execPath, [join(repo, "gpu-runner/container/runner-tree.mjs"), repo, root], { encoding: "utf8" });
    assert.equal(made.status, 0, made.stderr);
    assert.ok(!existsSync(join(root, "registry")) && !existsSync(join(root, "gpu-runner/metrics")), "the runner's files only");
    // The image installs its node_modules apart (gpu-runner/container/package.json); the repository's stand in.
    await symlink(join(repo, "node_modules"), join(root, "node_modules"));
    const runnerToken = await reg.key("tree-runner", ["runner"]);
    const child = spawn(process.execPath, [join(root, "bin", "motion-lora.js"), "runner", "start", "--idle-exit", "1"], {
      env: { ...process.env, XDG_CONFIG_HOME: dir, MOTION_LORA_REGISTRY: reg.url, MOTION_LORA_TOKEN: runnerToken },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 30_000,
    });
    let out = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (out += b));
    const code = await new Promise((ok) => child.on("exit", ok));
    await rm(root, { recursive: true });
    assert.equal(code, 0, out);
    assert.match(out, /idle; exiting/);
  });

  it("names the missing tool when MP4 needs ffmpeg", async () => {
    process.env.FFMPEG = "/nonexistent/ffmpeg";
    try {
      await writeFile(join(dir, "clip.mp4"), new Uint8Array(64));
      await assert.rejects(readVideoFile(join(dir, "clip.mp4")), FfmpegMissingError);
    } finally {
      delete process.env.FFMPEG;
    }
  });
});
