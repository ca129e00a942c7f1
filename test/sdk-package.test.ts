// The SDK as an app developer gets it: `npm pack` of this workspace installed into a fresh
// `npm init -y` project, its `motion-lora` command run from another folder, the README's snippet
// typechecked under a standard NodeNext tsconfig (no skipLibCheck) and run as written with plain node
// against a real registry and runner, and bundled for browsers (size checked, run in headless Chromium).
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { buildBrowserExample } from "../examples/browser/build.ts";
import { chromiumPath, runBrowserExample, withoutChromium } from "./helpers/browser.ts";
import { cli, type Proc } from "./helpers/processes.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TSC = join(ROOT, "node_modules/.bin/tsc");
/**
 * The snippets a new user copies (file, the heading above it, where it is compiled from). The guide's
 * is run as written, and the README's is the same text (checked below).
 */
const SNIPPETS = [
  ["README.md", "SDK", "readme.ts"],
  ["docs/sdk.md", "Use", "guide.ts"],
] as const;
/** The browser bundle budget the package promises (issue 14). */
const BROWSER_GZIP_BUDGET = 60 * 1024;

let dir = "";
let app = "";
let tarball = "";
let registry: Proc;
let url = "";
let token = "";
/** Where the installed CLI's `login` saves, and the snippet's `new MotionLora()` reads. */
let config = "";
/** The installed package's `motion-lora` command. */
let bin = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "motion-lora-package-"));
  app = join(dir, "app");
  await mkdir(app);
  // prepack compiles the SDK (sdk/tsconfig.build.json) into the tarball.
  const packed = JSON.parse((await run("npm", ["pack", "--workspace", "sdk", "--pack-destination", dir, "--json"], { cwd: ROOT })).stdout) as {
    filename: string;
  }[];
  tarball = join(dir, packed[0]!.filename);
  // What the docs tell a new user: a fresh project, made ESM.
  await run("npm", ["init", "-y"], { cwd: app });
  await run("npm", ["pkg", "set", "type=module"], { cwd: app });
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, "@types/node@^20.19.0"], { cwd: app });
  bin = join(app, "node_modules/.bin/motion-lora");
  config = join(dir, "config");

  const home = join(dir, "registry");
  const key = cli(["keys", "create", "--owner", "alice", "--json"], { MOTION_LORA_HOME: home });
  await key.exited;
  token = JSON.parse(key.lines.find((l) => l.startsWith("{"))!).token;
  registry = cli(["registry", "start", "--port", "0"], { MOTION_LORA_HOME: home });
  url = /listening on (\S+)/.exec(await registry.waitFor(/listening on/))![1]!;
});

after(async () => {
  registry?.child.kill("SIGTERM");
  await registry?.exited;
  await rm(dir, { recursive: true, force: true });
});

describe("the SDK package", () => {
  it("packs only the compiled SDK: ESM and .d.ts for '.' and './node', zod its one dependency, no install scripts", async () => {
    const { stdout } = await run("tar", ["-tzf", tarball]);
    const files = stdout.trim().split("\n");
    assert.ok(files.includes("package/dist/index.js") && files.includes("package/dist/index.d.ts"));
    assert.ok(files.includes("package/dist/node.js") && files.includes("package/dist/node.d.ts"));
    assert.deepEqual(
      files.filter((f) => !/^package\/(dist\/.+\.(js|d\.ts)|package\.json|README\.md)$/.test(f)),
      [],
      "nothing but dist, package.json and README",
    );
    assert.ok(!files.some((f) => f.includes("test")), "no tests");
    assert.ok(files.includes("package/dist/cli/bin.js"), "the client CLI");
    assert.ok(!files.some((f) => f.startsWith("package/dist/cli/") && /registry|runner/.test(f)), "no registry or runner commands");
    const pkg = JSON.parse(await readFile(join(app, "node_modules/@motion-lora/sdk/package.json"), "utf8"));
    assert.deepEqual(pkg.bin, { "motion-lora": "dist/cli/bin.js" });
    assert.deepEqual(Object.keys(pkg.dependencies), ["zod"]);
    for (const s of ["preinstall", "install", "postinstall"]) assert.equal(pkg.scripts?.[s], undefined, s);
    const js = await readFile(join(app, "node_modules/@motion-lora/sdk/dist/index.js"), "utf8");
    assert.doesNotMatch(js, /from "\.[^"]*\.ts"/, "relative imports point at .js");
  });

  it("installs a motion-lora command that runs from any folder: --help, login, vocab and search against the registry", async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), "motion-lora-elsewhere-"));
    const env = { ...process.env, XDG_CONFIG_HOME: config, MOTION_LORA_REGISTRY: "", MOTION_LORA_TOKEN: "" };
    const motionLora = (args: string[]) => run(bin, args, { cwd: elsewhere, env, timeout: 30_000 });
    try {
      const help = await motionLora(["--help"]);
      assert.match(help.stdout, /motion-lora tune CLIP/);
      assert.doesNotMatch(help.stdout, /registry start|runner start|keys create/, "the client's commands only");
      assert.equal((await motionLora(["--version"])).stdout.trim(), JSON.parse(await readFile(join(ROOT, "sdk/package.json"), "utf8")).version);
      const login = await motionLora(["login", "--registry", url, "--token", token]);
      assert.match(login.stdout, /logged in to .* as 'alice'/);
      const vocab = await motionLora(["vocab"]);
      assert.match(vocab.stdout, /background colours: black, gray/);
      const search = JSON.parse((await motionLora(["search", "--json"])).stdout);
      assert.ok(Array.isArray(search.data));
      // Its hints name only what it can run, or say where the repository's commands run (issue 28).
      const failed = (args: string[]) =>
        motionLora(args).then(
          () => assert.fail(`${args.join(" ")} succeeded`),
          (e: { code: number; stderr: string }) => e,
        );
      const typo = await failed(["tnue"]);
      assert.equal(typo.code, 2);
      assert.match(typo.stderr, /^error: unknown command 'tnue'; did you mean 'tune'\?/);
      const noKey = await failed(["login", "--registry", url, "--token", "mlk_nope"]);
      assert.equal(noKey.code, 3);
      assert.match(
        noKey.stderr,
        /ask the registry's operator for one \(on the registry's machine, in a clone of the motion-lora repository: npx motion-lora keys create/,
      );
      assert.doesNotMatch(noKey.stderr, /(?<!npx )motion-lora (keys|runner) /, "no command this bin does not have");
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it("typechecks the README's and the SDK guide's snippets and an app under a standard NodeNext tsconfig, without skipLibCheck", async () => {
    for (const [file, heading, out] of SNIPPETS) {
      const snippet = new RegExp(`## ${heading}\\n[\\s\\S]*?\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(await readFile(join(ROOT, file), "utf8"))?.[1];
      assert.ok(snippet?.includes('from "@motion-lora/sdk"'), `${file}'s snippet imports the package`);
      await writeFile(join(app, out), snippet!);
    }
    const [readme, guide] = await Promise.all(SNIPPETS.map(([, , out]) => readFile(join(app, out), "utf8")));
    assert.equal(readme, guide, "the README's SDK snippet is the guide's, which the next test runs as written");
    await writeFile(join(app, "app.ts"), APP);
    await writeFile(
      join(app, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "nodenext", moduleResolution: "nodenext", target: "es2022", strict: true, outDir: "out", types: ["node"] } }),
    );
    const tsc = await run(TSC, ["-p", "."], { cwd: app }).catch((e: { stdout: string }) => ({ stdout: e.stdout, failed: true }));
    assert.ok(!("failed" in tsc), tsc.stdout);
  });

  it("runs the SDK guide's snippet (the README's too: the same text) as written, as plain JavaScript: it finds the CLI's login, tunes on a real runner, and Ctrl-C cancels the job", async () => {
    // The snippet as the typecheck case saved it, run by plain node (the README says `node app.js`); clip.gif is the file it names.
    await copyFile(join(app, "guide.ts"), join(app, "app.js"));
    await copyFile(join(ROOT, "examples/clips/single-object-1.gif"), join(app, "clip.gif"));
    const child = spawn(process.execPath, ["app.js"], {
      cwd: app,
      env: { ...process.env, XDG_CONFIG_HOME: config, MOTION_LORA_REGISTRY: "", MOTION_LORA_TOKEN: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (b: Buffer) => (output += b));
    child.stderr.on("data", (b: Buffer) => (output += b));
    const exited = new Promise<number | null>((ok) => child.on("exit", (code) => ok(code)));
    // Running: the runner claimed it, so the login was found (no 401) and the upload and job went through.
    let job: { id: string; status: string } | undefined;
    for (let i = 0; i < 600 && job?.status !== "running"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const jobs = (await fetch(`${url}/v1/jobs`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json())) as { data: (typeof job)[] };
      job = jobs.data[0];
      if (child.exitCode !== null) break;
    }
    assert.equal(job?.status, "running", output);
    child.kill("SIGINT");
    assert.equal(await exited, 130, "Ctrl-C ends the snippet quietly, as a canceled command does");
    assert.doesNotMatch(output, /AbortedError|at .+:\d+:\d+/, "no stack trace");
    const after = (await fetch(`${url}/v1/jobs/${job!.id}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json())) as { status: string };
    assert.equal(after.status, "canceled", "the snippet's AbortSignal canceled the job on the registry before it exited");
    assert.match(output, /^queued, next; .+ 0%$/m, "onProgress printed the place in line");
    assert.match(output, /^running \d+%$/m, "then the stage");
  });

  it("runs with plain node against a registry: tunes, generates, lists, and throws typed errors", async () => {
    const clip = join(ROOT, "examples/clips/single-object-1.png");
    const { stdout } = await run(process.execPath, ["out/app.js", clip], {
      cwd: app,
      env: { ...process.env, MOTION_LORA_REGISTRY: url, MOTION_LORA_TOKEN: token },
      timeout: 240_000,
    });
    const out = JSON.parse(stdout.trim().split("\n").at(-1)!);
    assert.equal(out.model, "fym-tiny-dit");
    assert.equal(out.version, "alice/diamond-path@1");
    assert.equal(out.frames, 16);
    assert.ok(out.gifBytes > 100);
    assert.equal(out.listed, 1);
    assert.equal(out.notFound, true);
    assert.match(out.grammar, /background colours: black, gray/);
  });

  it(`bundles for browsers within ${BROWSER_GZIP_BUDGET / 1024} KB gzipped and runs in headless Chromium`, {
    skip: withoutChromium,
  }, async () => {
    // The whole public surface, every export kept: what an app pays at most.
    await writeFile(join(app, "everything.js"), 'export * from "@motion-lora/sdk";\n');
    const { build } = await import("esbuild");
    const whole = await build({
      entryPoints: [join(app, "everything.js")],
      bundle: true,
      minify: true,
      format: "esm",
      platform: "browser",
      write: false,
      logLevel: "warning",
    });
    const gz = gzipSync(whole.outputFiles[0]!.contents, { level: 9 }).length;
    console.log(`# SDK browser bundle: ${whole.outputFiles[0]!.contents.length} bytes minified, ${gz} bytes gzipped`);
    assert.ok(gz <= BROWSER_GZIP_BUDGET, `${gz} bytes gzipped > ${BROWSER_GZIP_BUDGET}`);

    assert.ok(chromiumPath, "CI must have Chromium: .ci/run installs Debian's chromium package");
    await copyFile(join(ROOT, "examples/browser/main.ts"), join(app, "main.ts"));
    await buildBrowserExample(app, { entry: join(app, "main.ts"), asInstalled: true });
    const page = await runBrowserExample(app, { registry: url, token, lora: "alice/diamond-path", steps: "3", prompt: "a blue square on a black background" });
    assert.equal(page.state, "done", `${page.text} ${page.errors.join(" ")}`);
    assert.equal(JSON.parse(page.text).frames, 16);
    assert.equal(page.gifWidth, 128);
  });
});

// An app's script, as a user writes it against the installed package.
const APP = `import { describeGrammar, MotionLora, NotFoundError } from "@motion-lora/sdk";
import { readVideoFile, writeVideoFile } from "@motion-lora/sdk/node";

const client = new MotionLora();
const model = await client.model();
const me = await client.me();
const version = await client.tune({
  video: await readVideoFile(process.argv[2]!),
  prompt: "a white diamond on a striped black background",
  lora: \`\${me.owner}/diamond-path\`,
  create: { title: "Diamond path", category: "single-object" },
  options: { spatial_steps: 4, temporal_steps: 8 },
});
const clip = await client.generate({
  prompt: "a red circle on a gradient navy background",
  loras: [{ version }],
  options: { steps: 3, seed: 1 },
});
await writeVideoFile("out.gif", clip.frames);
const { size } = await import("node:fs/promises").then((fs) => fs.stat("out.gif"));
let listed = 0;
for await (const _ of client.loras.list()) listed++;
const notFound = await client.loras.get("nobody/nothing").then(() => false, (e: unknown) => e instanceof NotFoundError);
console.log(JSON.stringify({
  model: model.id,
  version: \`\${version.owner}/\${version.name}@\${version.version}\`,
  frames: clip.frames.count,
  gifBytes: size,
  listed,
  notFound,
  grammar: model.grammar ? describeGrammar(model.grammar) : "",
}));
`;
