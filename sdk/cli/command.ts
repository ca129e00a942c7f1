import { parseArgs, type ParseArgsConfig } from "node:util";

/**
 * One top-level CLI command (`search`, `registry`, `runner` …). Each part of the project owns its
 * commands; `bin/motion-lora.js` composes them, so the SDK never imports the registry or the runner.
 */
export interface Command {
  name: string;
  /** Its lines of the help text, already indented like the others. */
  usage: string;
  /** What `COMMAND --help` adds below the usage: what it does, then each flag on its own line. */
  help?: string;
  /** false: the common flags (--registry, --token, --json) mean nothing to it, so its --help leaves their line out. */
  common?: boolean;
  /** Runs with the words after the command's name; resolves with the exit code. */
  run(argv: string[]): Promise<number>;
}

/** A bad command line: exit code 2, before anything is sent or computed. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Prints an error as every command does: `error: ` and the message, on stderr (main's exit codes go with it). */
export const printError = (message: string) => console.error(`error: ${message}`);

/** The names of the commands the running CLI was composed with (main sets them): what a hint may name as is. */
let composed = new Set<string>();
export const setComposed = (commands: readonly Command[]) => {
  composed = new Set(commands.map((c) => c.name));
};

/**
 * A command of the repository's own CLI (`keys …`, `runner start …`) as a hint names it. The
 * repository's bin (bin/motion-lora.js) has them: the plain command, run here. The SDK package's
 * `motion-lora` has the client commands only: `npx motion-lora …`, and where that runs.
 */
export function repositoryCommand(line: string): { command: string; where: string | null } {
  if (composed.has(line.split(" ")[0]!)) return { command: `motion-lora ${line}`, where: null };
  return { command: `npx motion-lora ${line}`, where: "in a clone of the motion-lora repository" };
}

const COMMON = { registry: { type: "string" }, token: { type: "string" }, json: { type: "boolean" } } as const;

/** Parses flags (plus --registry, --token, --json), turning parse failures into usage errors. */
export function args<O extends ParseArgsConfig["options"]>(
  argv: string[],
  options: O,
  positionals = true,
): ReturnType<typeof parseArgs<{ args: string[]; options: typeof COMMON & O; allowPositionals: boolean }>> {
  try {
    return parseArgs({ args: argv, options: { ...COMMON, ...options }, allowPositionals: positionals });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `--name N` as an integer, or undefined when absent. */
export function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got '${v}'`);
  return n;
}

/** Prints `value` as JSON with --json, else the human-readable `text`. */
export const out = (json: boolean | undefined, value: unknown, text: string) => console.log(json ? JSON.stringify(value, null, 2) : text);

/** Resolves on SIGINT or SIGTERM: how a long-running server command knows to stop. */
export const untilSignal = () =>
  new Promise<void>((done) => {
    process.once("SIGINT", () => done());
    process.once("SIGTERM", () => done());
  });
