import type { JobProgress } from "../client/client.ts";

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
      const secs = ((Date.now() - started) / 1000).toFixed(0);
      stream.write(
        `\r\x1b[K${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(p.progress * 100).toFixed(0).padStart(3)}% ${stage} ${secs}s${p.message ? `  ${p.message}` : ""}`.slice(
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
