// The CLI as users run it: real processes against a real registry, checking output and exit codes.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { runnerCommands } from "../gpu-runner/runner/cli.ts";
import { clientCommands } from "../sdk/cli/main.ts";
import { decodeGif, FfmpegMissingError, readVideoFile } from "../sdk/node.ts";
import { loraFile } from "./helpers/lora-file.ts";
import { cli, type Proc } from "./helpers/processes.ts";
import { startTestRegistry, type TestRegistry } from "./helpers/registry.ts";

const hasFfmpeg = spawnSync("ffmpeg", ["-version"]).status === 0 && spawnSync("ffprobe", ["-version"]).status === 0;
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
    const bad = await run(["login", "--registry", reg.url, "--token", "mlk_nope"]);
    assert.equal(bad.code, 3, "a bad token is an auth failure");
    assert.match(
      bad.out,
      /^error: this API key is not known to the registry; ask the registry's operator for one \(on the registry's machine, in a clone of the motion-lora repository: npx motion-lora keys create --owner NAME --scope read,write\)/m,
      "where a key comes from, true for the SDK package's motion-lora too (it has no keys command)",
    );
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
    assert.match(typo.out, /^error: unknown command 'genrate'; did you mean 'generate'\?/);
    assert.match((await run(["tnue"])).out, /did you mean 'tune'\?/, "two letters swapped: one typo");
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
    assert.match(text.out, /"an" reads as "a", "grey" as "gray", and "plain" is dropped/, "how natural English is read");
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

  it("tune says what the model will see before any upload: size, fps, length, crop or pad, frames kept, a warning when much is lost", async () => {
    // A wide clip as a folder of PNG frames: 24 frames of 64×32 (no frame rate in PNGs: 8 fps is assumed).
    const frames = join(dir, "wide-frames");
    await mkdir(frames, { recursive: true });
    const { encodePng } = await import("../sdk/video/png.ts");
    for (let f = 0; f < 24; f++)
      await writeFile(join(frames, `${String(f).padStart(3, "0")}.png`), await encodePng(new Uint8Array(64 * 32 * 3).fill(f * 10), 64, 32));
    const crop = await run(["tune", frames, "--dry-run"]);
    assert.equal(crop.code, 0, crop.out);
    assert.equal(
      crop.out.trim(),
      [
        "source 64×32, fps unknown (taken as 8), 3 s → crop to the centre 32×32 (50% of the picture), scaled to 32×32",
        "frames: 16 of the 24 between 0 s and 3 s (source frames 0…23)",
        `warning: crop keeps the centre 32×32 of 64×32 (50% of the picture): motion outside it is lost; fit "pad" keeps the whole picture`,
      ].join("\n"),
    );
    const pad = await run(["tune", frames, "--dry-run", "--fit", "pad", "--start", "1", "--duration", "1.5"]);
    assert.equal(pad.code, 0, pad.out);
    assert.match(
      pad.out,
      /→ pad to 64×64 \(the whole picture, bands of its border colour\), scaled to 32×32\nframes: 16 of the 12 between 1 s and 2\.5 s \(source frames 8…19\)\nwarning: the span holds 12 frames for the model's 16: 4 are repeats/,
    );
    assert.equal((await run(["tune", frames, "--dry-run", "--fit", "stretch"])).code, 2, "an unknown --fit is a usage error");
    assert.equal((await run(["tune", frames, "--dry-run", "--duration", "0"])).code, 2);
    // A real tune prints the same report first (stderr), before its upload and job: here the job is refused for its prompt.
    const tune = await run(["tune", frames, "--prompt", "a purple elephant", "--lora", "alice/wide", "--registry", reg.url, "--token", token]);
    assert.notEqual(tune.code, 0);
    assert.match(tune.out, /^source 64×32, fps unknown \(taken as 8\), 3 s → crop[\s\S]*\nwarning: crop keeps the centre 32×32[\s\S]*does not know 'purple'/);
  });

  it("reads an MP4's own size, rate and length, the whole clip or the span asked for (no cut at 512 frames)", {
    skip: !hasFfmpeg && "ffmpeg is not installed here",
  }, async () => {
    const { fitReport } = await import("../sdk/video/fit.ts");
    const make = (name: string, src: string) =>
      new Promise<void>((done, fail) =>
        spawn("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", src, "-pix_fmt", "yuv420p", join(dir, name)]).on("close", (c) =>
          c === 0 ? done() : fail(new Error(`ffmpeg ${c}`)),
        ),
      );
    await make("wide.mp4", "testsrc=size=854x480:rate=30:duration=3");
    await make("long.mp4", "testsrc=size=160x90:rate=30:duration=20");
    const wide = fitReport(await readVideoFile(join(dir, "wide.mp4")), { frames: 16, size: 32 });
    assert.deepEqual([wide.source.width, wide.source.height, wide.source.fps, wide.square.side], [854, 480, 30, 480]);
    assert.match(wide.warnings.join(), /56% of the picture/);
    const long = fitReport(await readVideoFile(join(dir, "long.mp4")), { frames: 16, size: 32 });
    assert.ok(long.framesKept.at(-1)! > 580, `the last frame kept is near 20 s: ${long.framesKept.at(-1)}`);
    const span = { start: 5, duration: 2 };
    const part = fitReport(await readVideoFile(join(dir, "long.mp4"), span), { frames: 16, size: 32 }, span);
    assert.deepEqual(part.span, { start: 5, end: 7 });
    assert.equal(part.framesKept[0], 150);
  });

  it("tune -o saves the LoRA's sample on a new prompt, --reference-out what the model saw: two different clips", async () => {
    const runnerToken = await reg.key("tune-runner", ["runner"]);
    const tokenFile = join(dir, "runner.token");
    await writeFile(tokenFile, `${runnerToken}\n`, { mode: 0o600 });
    const runner: Proc = cli(["runner", "start", "--registry", reg.url, "--token-file", tokenFile, "--cache", join(dir, "runner-cache")], {
      MOTION_LORA_TOKEN: "",
    });
    try {
      const sample = join(dir, "sample.gif");
      const reference = join(dir, "reference.png");
      const tune = await run([
        "tune",
        "examples/clips/single-object-1.gif",
        "--prompt",
        "a white diamond on a striped black background",
        "--lora",
        "alice/outputs",
        "--spatial-steps",
        "2",
        "--temporal-steps",
        "4",
        "--sample-steps",
        "2",
        "-o",
        sample,
        "--reference-out",
        reference,
        "--registry",
        reg.url,
        "--token",
        token,
      ]);
      assert.equal(tune.code, 0, `${tune.out}\nrunner:\n${runner.lines.slice(-10).join("\n")}`);
      const v = (await reg.call("GET", "/v1/loras/alice/outputs/versions/1", { token })).body;
      assert.equal(v.samples.length, 3, "the runner made its default 3 samples on new prompts");
      assert.match(tune.out, new RegExp(`sample "${v.samples[0].prompt}" → .*sample\\.gif`));
      assert.match(tune.out, new RegExp(`transfer score ${v.transfer.motion_fidelity.toFixed(2)}: mean motion fidelity of its 3 samples`));
      for (const x of v.samples) assert.ok(tune.out.includes(`  ${x.motion_fidelity.toFixed(2)}  "${x.prompt}"`), "each sample's score and prompt");
      assert.match(tune.out, /what the model saw → .*reference\.png/);
      const media = async (sha: string) => new Uint8Array(await (await fetch(`${reg.url}/media/${sha}`)).arrayBuffer());
      assert.deepEqual(new Uint8Array(await readFile(sample)), await media(v.samples[0].preview_sha256), "-o is the sample, byte for byte");
      const saw = await readVideoFile(reference);
      const preview = decodeGif(await media(v.preview_sha256));
      assert.equal(saw.count, 16);
      assert.deepEqual(saw.rgb, preview.rgb, "--reference-out is the version's preview: the reference as the model saw it");
      assert.notDeepEqual((await readVideoFile(sample)).rgb, saw.rgb, "two different clips");
      assert.doesNotMatch(runner.lines.join("\n"), /warning: --token/, "a token file gives no warning");
    } finally {
      runner.child.kill("SIGTERM");
      await runner.exited;
    }
  });

  it("refuses a file that is not a clip with a usage error (exit 2) that says what a clip is, before any upload", async () => {
    const text = join(dir, "notes.txt");
    await writeFile(text, "not a video\n");
    const blobsBefore = (await reg.call("GET", "/v1/jobs", { token })).body.data.length;
    const r = await run(["tune", text, "--prompt", "a red circle on a black background", "--lora", "alice/x", "--registry", reg.url, "--token", token]);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /^error: cannot read .*notes\.txt as a clip \(unrecognised video format\); CLIP must be an animated GIF/m);
    assert.doesNotMatch(r.out, /readVideoFile|Node helper|at .*\.ts:/, "no SDK internals");
    assert.equal((await reg.call("GET", "/v1/jobs", { token })).body.data.length, blobsBefore);
  });

  it("each command's --help explains every flag its usage names, one line each", async () => {
    for (const c of [...clientCommands, ...runnerCommands]) {
      assert.ok(c.help, `${c.name} has a help text`);
      const flags = new Set([...c.usage.matchAll(/(?<![\w-])--?[a-z][a-z-]*/g)].map((m) => m[0]));
      for (const flag of flags) assert.match(c.help!, new RegExp(`^ +(-\\w, )?${flag}\\b`, "m"), `${c.name} --help explains ${flag}`);
    }
    const help = await run(["tune", "--help"]);
    assert.match(help.out, /^ +--reference-out FILE +saves what the model saw/m);
    assert.match(help.out, /^ +-o, --output FILE +saves that sample/m);
  });

  it("runner start warns that --token shows the key in ps, and takes it from --token-file or MOTION_LORA_TOKEN", async () => {
    const r = await run(["runner", "start", "--registry", reg.url, "--token", "mlk_x", "--provider", "nope"]);
    assert.equal(r.code, 2);
    assert.match(r.out, /warning: --token shows the key to anyone who can list processes \(ps\); use MOTION_LORA_TOKEN or --token-file FILE/);
    const empty = join(dir, "empty.token");
    await writeFile(empty, "\n");
    const e = await run(["runner", "start", "--registry", reg.url, "--token-file", empty]);
    assert.equal(e.code, 2);
    assert.match(e.out, /--token-file .*empty\.token is empty/);
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
      ["MOTION_LORA_CONCURRENCY", "0"],
      ["MOTION_LORA_IDLE_EXIT", "soon"],
      ["MOTION_LORA_SAMPLES", "9"],
    ] as const) {
      const r = await run(["runner", "start"], { ...base, [name]: value }, 60_000);
      assert.equal(r.code, 2, `${name}=${value}: ${r.out}`);
      assert.match(r.out, new RegExp(`${name} must be .*'${value.replace(".", "\\.")}'`));
    }
    // No token anywhere: not in the environment, and no saved login (this file's first test saved one for this registry).
    const none = await run(["runner", "start"], { MOTION_LORA_REGISTRY: reg.url, XDG_CONFIG_HOME: join(dir, "no-login") }, 60_000);
    assert.equal(none.code, 2);
    assert.match(none.out, /MOTION_LORA_TOKEN/, "says which variable carries the token");
  });

  it("runs `runner start` from the runner image's tree, which has no registry/ (gpu-runner/container/runner-tree.mjs)", async () => {
    const root = await mkdtemp(join(tmpdir(), "motion-lora-runner-tree-"));
    const repo = fileURLToPath(new URL("../", import.meta.url));
    const made = spawnSync(process.execPath, [join(repo, "gpu-runner/container/runner-tree.mjs"), repo, root], { encoding: "utf8" });
    assert.equal(made.status, 0, made.stderr);
    assert.ok(!existsSync(join(root, "registry")) && !existsSync(join(root, "gpu-runner/evaluation/motionbench")), "the runner's files only");
    assert.ok(existsSync(join(root, "gpu-runner/evaluation/metrics/fidelity.ts")), "metrics/: the runner scores its transfer samples");
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
