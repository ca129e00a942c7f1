/** How `registry start` writes its log: readable lines for a person at a terminal, JSON for machines. */
export type LogFormat = "pretty" | "json" | "debug";

const KEYS_SHOWN_ELSEWHERE = new Set(["ts", "level", "msg", "method", "path", "route", "status", "ms", "requestId", "key"]);

/** One log record as a terminal line: `12:00:01 GET /v1/loras 200 2.1 ms`, or `12:00:01 warn msg key=value`. */
export function prettyLine(e: Record<string, unknown>): string {
  const time = typeof e.ts === "string" ? e.ts.slice(11, 19) : new Date().toISOString().slice(11, 19);
  if (typeof e.method === "string" && typeof e.status === "number") {
    return `${time} ${e.method} ${String(e.path)} ${e.status} ${Number(e.ms).toFixed(1)} ms`;
  }
  if (e.source === "runner" && typeof e.line === "string") return `${time} runner[${String(e.pid)}] ${e.line}`;
  const level = typeof e.level === "string" && e.level !== "info" ? `${e.level} ` : "";
  const rest = Object.entries(e)
    .filter(([k]) => !KEYS_SHOWN_ELSEWHERE.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return [`${time} ${level}${typeof e.msg === "string" ? e.msg : ""}`.trimEnd(), ...rest].join(" ");
}

/** A log function for `format`: pretty and json leave debug records out; debug shows everything, readably. */
export function logger(format: LogFormat, write: (line: string) => void = (l) => console.error(l)): (e: Record<string, unknown>) => void {
  return (e) => {
    if (format !== "debug" && e.level === "debug") return;
    const record = typeof e.ts === "string" ? e : { ts: new Date().toISOString(), ...e };
    write(format === "json" ? JSON.stringify(record) : prettyLine(record));
  };
}
