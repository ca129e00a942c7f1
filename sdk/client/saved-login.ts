// Where `motion-lora login` keeps the registry and token, read by the CLI and by `new MotionLora()`.
// No static `node:` import: the SDK's main entry stays fetch-only for browsers, Deno and Workers;
// in Node (≥ 20.16) `process.getBuiltinModule` reaches the file system without one.

/** What `motion-lora login` saved. */
export interface SavedLogin {
  registry: string;
  token?: string;
}

type NodeProcess = {
  env: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
};

const nodeProcess = () => (globalThis as { process?: NodeProcess }).process;

/** The login file: $XDG_CONFIG_HOME/motion-lora/config.json, else ~/.config/motion-lora/config.json; null outside Node. */
export function savedLoginPath(): string | null {
  const proc = nodeProcess();
  const os = proc?.getBuiltinModule?.("node:os") as typeof import("node:os") | undefined;
  const path = proc?.getBuiltinModule?.("node:path") as typeof import("node:path") | undefined;
  if (!os || !path) return null;
  return path.join(proc!.env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config"), "motion-lora", "config.json");
}

/** The saved login, or null when there is none, it cannot be read, or there is no file system. */
export function readSavedLogin(): SavedLogin | null {
  const file = savedLoginPath();
  const fs = nodeProcess()?.getBuiltinModule?.("node:fs") as typeof import("node:fs") | undefined;
  if (!file || !fs) return null;
  try {
    const saved = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<SavedLogin>;
    if (typeof saved.registry !== "string") return null;
    return { registry: saved.registry, ...(typeof saved.token === "string" && saved.token && { token: saved.token }) };
  } catch {
    return null;
  }
}

const origin = (url: string) => url.replace(/\/+$/, "");

/**
 * The saved token for `registry`, only when it was saved for that registry: a token is never sent
 * to a registry other than the one it was created on.
 */
export function savedTokenFor(registry: string, saved: SavedLogin | null): string | undefined {
  return saved?.token && origin(saved.registry) === origin(registry) ? saved.token : undefined;
}
