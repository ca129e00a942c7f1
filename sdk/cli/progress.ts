import { queueText, runnerExpected, type JobProgress } from "../client/client.ts";
import { repositoryCommand } from "./command.ts";

/** Seconds as a person reads them: 42s, 3m05s, 1h02m. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** How to start a runner, for a job no runner will take: the repository's command, as this CLI can run it. */
export function runnerHint(registry?: string): string {
  const { command, where } = repositoryCommand(`runner start${registry ? ` --registry ${registry}` : ""}`);
  return `start one${where ? ` ${where}, where the model runs` : ""}: MOTION_LORA_TOKEN=<runner key> ${command}`;
}

/** A queued job's line: its place and whether anything will run it (and, if nothing, how to start a runner). */
export function queueLine(q: NonNullable<JobProgress["queue"]>, registry?: string): string {
  return runnerExpected(q) ? queueText(q) : `${queueText(q)} (${runnerHint(registry)})`;
}

/** A one-line progress bar on a terminal; plain lines (one per stage or place in line) when stderr is a pipe or a file. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr, registry?: string) {
  let lastLine: string | null = null;
  let hinted = false;
  const started = Date.now();
  return {
    update(p: JobProgress) {
      if (!stream.isTTY) {
        const line = p.queue ? queueLine(p.queue, registry) : p.label;
        if (line !== lastLine) stream.write(`${label}: ${line}\n`);
        lastLine = line;
        return;
      }
      // The bar is cut at the terminal's width: how to start a runner goes on a line of its own, once.
      if (p.queue && !runnerExpected(p.queue) && !hinted) {
        stream.write(`\r\x1b[K${label}: ${queueLine(p.queue, registry)}\n`);
        hinted = true;
      }
      const stage = p.label;
      const width = 30;
      const filled = Math.round(p.progress * width);
      // One ETA: the runner's for the whole job (the log line carries none of its own).
      const time = `${duration((Date.now() - started) / 1000)}${p.etaSeconds === null ? "" : `, ${duration(p.etaSeconds)} left`}`;
      stream.write(
        `\r\x1b[K${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(p.progress * 100).toFixed(0).padStart(3)}% ${stage} ${time}${p.message ? `  ${p.message}` : ""}`.slice(
          0,
          (stream.columns ?? 120) + 8,
        ),
      );
    },
    done() {
      if (stream.isTTY) stream.write("\n");
    },
  };
}
