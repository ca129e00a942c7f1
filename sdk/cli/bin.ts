#!/usr/bin/env node
// `motion-lora` as the SDK package installs it: the client commands only (login, search, show, push,
// pull, tune, generate, jobs, vocab), which talk HTTP to a registry from any folder. Serving a
// registry, its keys and a runner stay with the repository's own bin (bin/motion-lora.js).
import { readFileSync } from "node:fs";
import { clientCommands, main } from "./main.ts";

// Compiled to dist/cli/bin.js: two folders up is the package's package.json.
const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
process.exitCode = await main(process.argv.slice(2), clientCommands, { version });
