import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface CliConfig {
  registry: string;
  token?: string;
}

export const configPath = () => join(process.env.XDG_CONFIG_HOME ?? join(homedir(), ".config"), "motion-lora", "config.json");

/** Flags, then MOTION_LORA_REGISTRY / MOTION_LORA_TOKEN, then what `motion-lora login` saved. */
export async function resolveConfig(flags: { registry?: string | undefined; token?: string | undefined }): Promise<CliConfig> {
  const saved = await readFile(configPath(), "utf8").then(
    (s) => JSON.parse(s) as Partial<CliConfig>,
    () => ({}) as Partial<CliConfig>,
  );
  const registry = flags.registry || process.env.MOTION_LORA_REGISTRY || saved.registry || "http://127.0.0.1:8787";
  const token = flags.token || process.env.MOTION_LORA_TOKEN || saved.token;
  return { registry, ...(token ? { token } : {}) };
}

/** Saves the registry and token readable by this user only. */
export async function saveConfig(c: CliConfig): Promise<string> {
  const path = configPath();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(c, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}
