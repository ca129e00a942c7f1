#!/usr/bin/env node
// The one place that composes the CLI: each part owns its commands (client commands in sdk/cli,
// `registry start` and `keys` in registry/cli, `runner start` in gpu-runner/runner), so the SDK
// never imports the server or the runner. The sources are TypeScript run through tsx: no build step.
import { readFileSync } from "node:fs";
import { register } from "tsx/esm/api";

register();
const [{ main, clientCommands }, { registryCommands }, { runnerCommands }] = await Promise.all([
  import("../sdk/cli/main.ts"),
  import("../registry/cli/commands.ts"),
  import("../gpu-runner/runner/cli.ts"),
]);
const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
process.exitCode = await main(process.argv.slice(2), [...clientCommands, ...registryCommands, ...runnerCommands], { version });
