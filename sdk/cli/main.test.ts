// The client CLI's own behaviour, run in-process (main with a command set, as either bin composes
// it): what it suggests, how it prints errors, what each command's --help shows, and how its
// hints name the repository's commands. test/cli.test.ts runs the CLI as processes against a registry.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setComposed, type Command } from "./command.ts";
import { clientCommands, main } from "./main.ts";
import { queueLine } from "./progress.ts";

/** The repository's bin adds these (registry/cli, gpu-runner/runner): stand-ins with their names, for what main composes. */
const stand = (name: string): Command => ({ name, usage: `  motion-lora ${name} …`, common: false, run: async () => 0 });
const repositoryCommands = [...clientCommands, stand("registry"), stand("keys"), stand("runner")];

/** Runs main, collecting what it prints: stdout and stderr apart. */
async function run(argv: string[], commands = clientCommands) {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    const code = await main(argv, commands);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    Object.assign(console, { log, error });
  }
}

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "motion-lora-cli-main-"));
});
after(() => rm(dir, { recursive: true, force: true }));

describe("the client CLI", () => {
  it("suggests the command a typo meant, two swapped letters counting as one edit", async () => {
    for (const [typo, meant] of [
      ["tnue", "tune"],
      ["serach", "search"],
      ["generat", "generate"],
      ["tun", "tune"],
      ["lgoin", "login"],
    ]) {
      const r = await run([typo!]);
      assert.equal(r.code, 2);
      assert.match(r.err, new RegExp(`^error: unknown command '${typo}'; did you mean '${meant}'\\?`), typo);
    }
    assert.doesNotMatch((await run(["frobnicate"])).err, /did you mean/, "nothing close: no guess");
  });

  it("prints every error one way, 'error: ' first: usage errors, files that are not clips, unknown commands", async () => {
    const notes = join(dir, "notes.txt");
    await writeFile(notes, "not a video\n");
    const clip = await run(["tune", notes, "--prompt", "a red circle on a black background", "--lora", "alice/x", "--registry", "http://127.0.0.1:9"]);
    assert.equal(clip.code, 2);
    assert.match(clip.err, /^error: cannot read .*notes\.txt as a clip \(unrecognised video format\); CLIP must be an animated GIF/);
    const usage = await run(["generate", "--prompt", "a red circle on a black background"]);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /^error: generate needs --prompt and -o/);
    const missing = await run(["push", join(dir, "nothing.safetensors"), "--lora", "alice/x"]);
    assert.match(missing.err, /^error: no such file or folder: .*nothing\.safetensors/);
    for (const r of [clip, usage, missing]) assert.equal(r.out, "", "nothing on stdout");
  });

  it("shows in a command's --help only the notes that command uses: CLIP for tune, not for login or search", async () => {
    const login = await run(["login", "--help"]);
    assert.equal(login.code, 0);
    assert.match(login.out, /motion-lora login --registry URL --token TOKEN/);
    assert.doesNotMatch(login.out, /CLIP/);
    assert.match(login.out, /^Common flags: --registry URL/m);
    assert.match(login.out, /^Exit codes: /m);
    const search = await run(["search", "--help"]);
    assert.doesNotMatch(search.out, /CLIP/);
    assert.doesNotMatch(search.out, /motion-lora COMMAND --help/, "nor how to get the help it is");
    assert.match((await run(["help", "search"])).out, /^Usage:\n {2}motion-lora search/, "help COMMAND: the same");
    assert.match((await run(["tune", "--help"])).out, /^CLIP: an animated GIF/m);
    assert.doesNotMatch((await run(["keys", "--help"], repositoryCommands)).out, /Common flags/, "a command the common flags mean nothing to");
    assert.match((await run(["--help"])).out, /^CLIP: [\s\S]*'motion-lora COMMAND --help' shows one command/m, "the full help keeps every note");
  });

  it("names the repository's commands (runner start) as the running CLI can run them", async () => {
    const q = { position: 1, runners: 0, runner_on_demand: null };
    setComposed(clientCommands);
    assert.equal(
      queueLine(q, "http://reg:8787"),
      "queued, next; no runner connected (start one in a clone of the motion-lora repository, where the model runs: MOTION_LORA_TOKEN=<runner key> npx motion-lora runner start --registry http://reg:8787)",
      "the SDK package's motion-lora has no runner command",
    );
    setComposed(repositoryCommands);
    assert.equal(
      queueLine(q, "http://reg:8787"),
      "queued, next; no runner connected (start one: MOTION_LORA_TOKEN=<runner key> motion-lora runner start --registry http://reg:8787)",
      "the repository's bin has it",
    );
    assert.equal(queueLine({ position: 3, runners: 2, runner_on_demand: null }), "queued, 3rd in line; 2 runners connected");
    // A registry that starts runners itself needs no hint: the job only waits for one to connect.
    assert.equal(queueLine({ ...q, runner_on_demand: "local" }), "queued, next; no runner connected yet: the registry is starting one");
    assert.equal(queueLine({ ...q, runner_on_demand: "webhook" }), "queued, next; no runner connected yet: the registry has asked its platform to start one");
    // main sets it from the commands it was given.
    await run(["--version"]);
    assert.match(
      queueLine(q),
      /in a clone of the motion-lora repository, where the model runs: MOTION_LORA_TOKEN=<runner key> npx motion-lora runner start\)$/,
    );
  });
});
