#!/usr/bin/env node
// The one place that composes the CLI: each part owns its commands (client commands in sdk/cli,
// `registry start` and `keys` in registry/cli, `runner start` in gpu-runner/runner), so the SDK
// never imports the server or the runner. The sources are TypeScript run through tsx: no build step.
import { existsSync, readFileSync } from "node:fs";
import { register } from "tsx/esm/api";

register();
// A part that is not installed adds no commands: the runner's container image carries no registry/.
// (Literal import paths, so the layout check in test/layers.test.ts sees them.)
const part = async (path, load) => (existsSync(new URL(path, import.meta.url)) ? load() : []);
const [{ main, clientCommands }, registryCommands, runnerCommands] = await Promise.all([
  import("../sdk/cli/main.ts"),
  part("../registry/cli/commands.ts", async () => (await import("../registry/cli/commands.ts")).registryCommands),
  part("../gpu-runner/runner/cli.ts", async () => (await import("../gpu-runner/runner/cli.ts")).runnerCommands),
]);
const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
process.exitCode = await main(process.argv.slice(2), [...clientCommands, ...registryCommands, ...runnerCommands], { version });
