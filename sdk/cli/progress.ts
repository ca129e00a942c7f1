import type { JobProgress } from "../client/client.ts";

/** Seconds as a person reads them: 42s, 3m05s, 1h02m. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** A one-line progress bar on a terminal; plain lines (one per stage) when stderr is a pipe or a file. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
  let lastStage: string | null = null;
  const started = Date.now();
  return {
    update(p: JobProgress) {
      const stage = p.stage ?? p.status ?? "";
      if (!stream.isTTY) {
        if (stage !== lastStage) stream.write(`${label}: ${stage}\n`);
        lastStage = stage;
        return;
      }
      const width = 30;
      const filled = Math.round(p.progress * width);
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
