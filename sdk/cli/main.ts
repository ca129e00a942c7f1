import {
  APIConnectionError,
  APITimeoutError,
  AuthenticationError,
  JobFailedError,
  MotionLoraError,
  NotFoundError,
  PermissionDeniedError,
} from "../client/errors.ts";
import { catalogCommands } from "./catalog.ts";
import { UsageError, type Command } from "./command.ts";
import { configPath } from "./config.ts";
import { jobCommands } from "./jobs.ts";

export type { Command } from "./command.ts";

/** The client commands: they only talk HTTP to a registry, so they run wherever the SDK does. */
export const clientCommands: Command[] = [...catalogCommands, ...jobCommands];

const HEAD = "motion-lora — copy the motion of a video onto new content, and share it as a LoRA\n\nUsage:";
const FOOT = `
Common flags: --registry URL, --token TOKEN (or MOTION_LORA_REGISTRY / MOTION_LORA_TOKEN, or login),
--json (machine-readable output on stdout).
CLIP: an animated GIF, a clip PNG, a folder of PNG frames, or MP4/WebM (needs ffmpeg).
Exit codes: 0 ok · 1 the operation or job failed · 2 bad command line · 3 authentication or
permission · 4 not found · 5 registry unreachable or timed out.`;

/** The help text of a set of commands. */
export const usage = (commands: Command[]) => [HEAD, ...commands.map((c) => c.usage), FOOT].join("\n");

/** The process exit code for an error: 1 failed, 2 bad command line, 3 auth/permission, 4 not found, 5 unreachable. */
function exitCode(e: unknown): number {
  if (e instanceof UsageError) {
    console.error(`${e.message}\n\nRun 'motion-lora help' for usage.`);
    return 2;
  }
  console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
  if (e instanceof AuthenticationError || e instanceof PermissionDeniedError) {
    console.error(`check the token (motion-lora login, or --token; saved config: ${configPath()})`);
    return 3;
  }
  if (e instanceof NotFoundError) return 4;
  if (e instanceof APIConnectionError || e instanceof APITimeoutError) return 5;
  if (e instanceof JobFailedError || e instanceof MotionLoraError) return 1;
  if (!(e instanceof Error) || !("code" in e)) console.error(e);
  return 1;
}

/** Runs one command line against `commands` (the client's own, plus whatever the caller composes in). */
export async function main(argv: string[], commands: Command[] = clientCommands): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(usage(commands));
    return 0;
  }
  try {
    const command = commands.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command '${argv.join(" ")}'`);
    return await command.run(rest);
  } catch (e) {
    return exitCode(e);
  }
}
