// The SDK as an app developer gets it: `npm pack` of this workspace installed into a fresh project,
// typechecked under a standard NodeNext tsconfig (no skipLibCheck), run with plain node against a
// real registry and runner, and bundled for browsers (size checked, run in headless Chromium).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
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
/** The browser bundle budget the package promises (issue 14). */
const BROWSER_GZIP_BUDGET = 60 * 1024;

let dir = "";
let app = "";
let tarball = "";
let registry: Proc;
let url = "";
let token = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "motion-lora-package-"));
  app = join(dir, "app");
  await mkdir(app);
  // prepack compiles the SDK (sdk/tsconfig.build.json) into the tarball.
  const packed = JSON.parse((await run("npm", ["pack", "--workspace", "sdk", "--pack-destination", dir, "--json"], { cwd: ROOT })).stdout) as {
    filename: string;
  }[];
  tarball = join(dir, packed[0]!.filename);
  await writeFile(join(app, "package.json"), JSON.stringify({ name: "an-app", private: true, type: "module" }));
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, "@types/node@^20.19.0"], { cwd: app });

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
    assert.ok(!files.some((f) => f.includes("test") || f.includes("/cli/")), "no tests, no CLI");
    const pkg = JSON.parse(await readFile(join(app, "node_modules/@motion-lora/sdk/package.json"), "utf8"));
    assert.deepEqual(Object.keys(pkg.dependencies), ["zod"]);
    for (const s of ["preinstall", "install", "postinstall"]) assert.equal(pkg.scripts?.[s], undefined, s);
    const js = await readFile(join(app, "node_modules/@motion-lora/sdk/dist/index.js"), "utf8");
    assert.doesNotMatch(js, /from "\.[^"]*\.ts"/, "relative imports point at .js");
  });

  it("typechecks the README's snippet and an app under a standard NodeNext tsconfig, without skipLibCheck", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    const snippet = /## SDK\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(snippet?.includes('from "@motion-lora/sdk"'), "the README's SDK snippet imports the package");
    await writeFile(join(app, "readme.ts"), snippet!);
    await writeFile(join(app, "app.ts"), APP);
    await writeFile(
      join(app, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "nodenext", moduleResolution: "nodenext", target: "es2022", strict: true, outDir: "out", types: ["node"] } }),
    );
    const tsc = await run(TSC, ["-p", "."], { cwd: app }).catch((e: { stdout: string }) => ({ stdout: e.stdout, failed: true }));
    assert.ok(!("failed" in tsc), tsc.stdout);
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
  loras: [{ ref: \`\${version.owner}/\${version.name}@\${version.version}\` }],
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
