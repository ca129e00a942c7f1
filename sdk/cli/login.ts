import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { readSavedLogin, savedLoginPath, savedTokenFor, type SavedLogin } from "../client/saved-login.ts";

/** Where the CLI talks to and with which token. */
export type Login = SavedLogin;

/** The file `login` writes: the same one `new MotionLora()` reads (sdk/client/saved-login.ts). */
export const loginPath = () => savedLoginPath()!;

/**
 * Flags, then MOTION_LORA_REGISTRY / MOTION_LORA_TOKEN, then what `motion-lora login` saved (its
 * token only for the registry it was saved for, as the SDK does).
 */
export async function resolveLogin(flags: { registry?: string | undefined; token?: string | undefined }): Promise<Login> {
  const saved = readSavedLogin();
  const registry = flags.registry || process.env.MOTION_LORA_REGISTRY || saved?.registry || "http://127.0.0.1:8787";
  const token = flags.token || process.env.MOTION_LORA_TOKEN || savedTokenFor(registry, saved);
  return { registry, ...(token ? { token } : {}) };
}

/** Saves the registry and token readable by this user only. */
export async function saveLogin(c: Login): Promise<string> {
  const path = loginPath();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(c, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}
