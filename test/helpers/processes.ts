import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/motion-lora.js", import.meta.url));

export interface Proc {
  child: ChildProcess;
  /** stderr and stdout so far, as lines. */
  lines: string[];
  /** Resolves with the first line matching `re`, or rejects after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the motion-lora CLI as a real child process, collecting its output lines. */
export function cli(args: string[], env: Record<string, string> = {}): Proc {
  return node([BIN, ...args], env);
}

/** Runs node with `args` (a script and its arguments) as a real child process, collecting its output lines. */
export function node(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters: { re: RegExp; ok: (l: string) => void }[] = [];
  const onData = (b: Buffer) => {
    for (const line of b.toString().split("\n")) {
      if (!line) continue;
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.ok(line);
        }
      }
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => child.on("exit", (code, signal) => ok({ code, signal })));
  return {
    child,
    lines,
    exited,
    waitFor(re, ms = 60_000) {
      const hit = lines.find((l) => re.test(l));
      if (hit) return Promise.resolve(hit);
      return new Promise((ok, fail) => {
        const t = setTimeout(() => fail(new Error(`no line matching ${re} within ${ms} ms; output:\n${lines.slice(-20).join("\n")}`)), ms);
        waiters.push({
          re,
          ok: (l) => {
            clearTimeout(t);
            ok(l);
          },
        });
      });
    },
  };
}
