import type { JobProgress } from "../client/client.ts";

/** Seconds as a person reads them: 42s, 3m05s, 1h02m. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

const ordinal = (n: number) => `${n}${n % 100 >= 11 && n % 100 <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th")}`;

/** A queued job's line: its place and whether anything will run it (and, if nothing, how to start a runner). */
export function queueLine(q: NonNullable<JobProgress["queue"]>, registry?: string): string {
  const place = `queued, ${q.position === 1 ? "next" : `${ordinal(q.position)} in line`}`;
  if (q.runners > 0) return `${place}; ${q.runners} runner${q.runners === 1 ? "" : "s"} connected`;
  return `${place}; no runner connected (start one: MOTION_LORA_TOKEN=<runner key> motion-lora runner start${registry ? ` --registry ${registry}` : ""})`;
}

/** A one-line progress bar on a terminal; plain lines (one per stage or place in line) when stderr is a pipe or a file. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr, registry?: string) {
  let lastLine: string | null = null;
  const started = Date.now();
  return {
    update(p: JobProgress) {
      const stage = p.queue ? queueLine(p.queue, registry) : (p.stage ?? p.status ?? "");
      if (!stream.isTTY) {
        if (stage !== lastLine) stream.write(`${label}: ${stage}\n`);
        lastLine = stage;
        return;
      }
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
