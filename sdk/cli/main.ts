import {
  AbortedError,
  APIConnectionError,
  APITimeoutError,
  AuthenticationError,
  JobFailedError,
  MotionLoraError,
  NotFoundError,
  PermissionDeniedError,
} from "../client/errors.ts";
import { editDistance } from "../prompt/suggest.ts";
import { catalogCommands } from "./catalog.ts";
import { printError, setComposed, UsageError, type Command } from "./command.ts";
import { loginPath } from "./login.ts";
import { jobCommands } from "./jobs.ts";

export type { Command } from "./command.ts";

/** The client commands: they only talk HTTP to a registry, so they run wherever the SDK does. */
export const clientCommands: Command[] = [...catalogCommands, ...jobCommands];

const HEAD = "motion-lora — copy the motion of a video onto new content, and share it as a LoRA\n\nUsage:";
const COMMON = `Common flags: --registry URL, --token TOKEN (or MOTION_LORA_REGISTRY / MOTION_LORA_TOKEN, or login),
--json (machine-readable output on stdout).`;
const CLIP = "CLIP: an animated GIF, a clip PNG, a folder of PNG frames, or MP4/WebM (needs ffmpeg).";
const EXIT_CODES = `Exit codes: 0 ok · 1 the operation or job failed · 2 bad command line or file · 3 authentication or
permission · 4 not found · 5 registry unreachable or timed out · 130 interrupted (the job was canceled).`;
const MORE = "'motion-lora COMMAND --help' shows one command; 'motion-lora --version' the version.";

/** The help text of a set of commands. */
export const usage = (commands: Command[]) => [HEAD, ...commands.map((c) => c.usage), "", COMMON, CLIP, EXIT_CODES, MORE].join("\n");

/** The help text of one command (`help tune`, `tune --help`): the notes below it only where the command uses them. */
const usageOf = (command: Command) =>
  [
    `Usage:\n${command.usage}\n${command.help ? `\n${command.help}\n` : ""}`,
    ...(command.common === false ? [] : [COMMON]),
    ...(/\bCLIP\b/.test(command.usage) ? [CLIP] : []),
    EXIT_CODES,
  ].join("\n");

/** The known command closest to a mistyped one, when it is close enough to be a typo. */
function suggestion(name: string, commands: Command[]): string | null {
  // The prompt check's distance (sdk/prompt/suggest.ts): two neighbours swapped ("tnue") are one edit, as a typo is.
  const best = commands.map((c) => ({ c, d: editDistance(name, c.name) })).sort((a, b) => a.d - b.d)[0];
  return best && best.d <= Math.max(1, Math.floor(best.c.name.length / 3)) ? best.c.name : null;
}

/** A file the command line named that cannot be read or written: the path and what to do, not a stack. */
function fileProblem(e: unknown): string | null {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof err.path !== "string") return null;
  if (err.code === "ENOENT") return `no such file or folder: ${err.path}`;
  if (err.code === "EACCES" || err.code === "EPERM") return `permission denied: ${err.path}`;
  if (err.code === "EISDIR") return `${err.path} is a folder; give a file`;
  return null;
}

/**
 * The process exit code for an error, which it prints the one way (printError: `error: …`):
 * 1 failed, 2 bad command line, 3 auth/permission, 4 not found, 5 unreachable, 130 interrupted.
 */
function exitCode(e: unknown): number {
  if (e instanceof UsageError) {
    printError(`${e.message}\n\nRun 'motion-lora help' for usage.`);
    return 2;
  }
  const file = fileProblem(e);
  if (file) {
    printError(file);
    return 2;
  }
  printError(e instanceof Error ? e.message : String(e));
  // Ctrl-C (interrupt() in jobs.ts), or any abort of a followed job: it was canceled on the registry.
  if (e instanceof MotionLoraError && (e.code === "interrupted" || e instanceof AbortedError)) return 130;
  if (e instanceof AuthenticationError || e instanceof PermissionDeniedError) {
    console.error(`check the token (motion-lora login, or --token; saved login: ${loginPath()})`);
    return 3;
  }
  if (e instanceof NotFoundError) return 4;
  if (e instanceof APIConnectionError || e instanceof APITimeoutError) return 5;
  if (e instanceof JobFailedError || e instanceof MotionLoraError) return 1;
  if (!(e instanceof Error) || !("code" in e)) console.error(e);
  return 1;
}

/** Runs one command line against `commands` (the client's own, plus whatever the caller composes in). */
export async function main(argv: string[], commands: Command[] = clientCommands, opts: { version?: string } = {}): Promise<number> {
  const [name, ...rest] = argv;
  // Hints name the repository's own commands (keys, runner) as this CLI can run them.
  setComposed(commands);
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const topic = commands.find((c) => c.name === rest[0]);
    console.log(topic ? usageOf(topic) : usage(commands));
    return 0;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    console.log(opts.version ?? "unknown");
    return 0;
  }
  try {
    const command = commands.find((c) => c.name === name);
    if (!command) {
      const near = suggestion(name, commands);
      throw new UsageError(`unknown command '${name}'${near ? `; did you mean '${near}'?` : ""}`);
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(usageOf(command));
      return 0;
    }
    return await command.run(rest);
  } catch (e) {
    return exitCode(e);
  }
}
