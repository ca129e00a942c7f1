import { readFileSync } from "node:fs";
import { applyOverrides, ConfigError, parseOverrides, type RegistryOverrides } from "./config-overrides.ts";
import { defaultConfig, type RegistryConfig } from "./config.ts";

/**
 * The operator's settings for the Node registry: `--config FILE` or MOTION_LORA_CONFIG (the JSON the
 * Worker reads), checked by the same schema. Read before anything is opened, so a wrong field stops
 * start-up with its name and touches nothing stored.
 */
export function readNodeOverrides(file: string | undefined, env: NodeJS.ProcessEnv = process.env): RegistryOverrides {
  const fromEnv = env.MOTION_LORA_CONFIG;
  if (file !== undefined && fromEnv !== undefined && fromEnv.trim() !== "") {
    throw new ConfigError(`both --config ${file} and MOTION_LORA_CONFIG are set; give the settings in one of them`);
  }
  const overrides = file !== undefined ? parseOverrides(readFileSync(file, "utf8"), file) : parseOverrides(fromEnv, "MOTION_LORA_CONFIG");
  if (overrides.trustCfConnectingIp !== undefined) {
    throw new ConfigError(
      `${file ?? "MOTION_LORA_CONFIG"}: trustCfConnectingIp: the Node registry takes the client from its socket; list the proxy in front of it in trustedProxies (its X-Forwarded-For is then believed)`,
    );
  }
  return overrides;
}

/** The Node registry's config: the defaults, the bundled base model, the operator's overrides, then what the code that starts it passes. */
export function nodeConfig(overrides: RegistryOverrides, fromCode: Partial<RegistryConfig>, baseModel: RegistryConfig["baseModel"] | null): RegistryConfig {
  return { ...applyOverrides({ ...defaultConfig, ...(baseModel ? { baseModel } : {}) }, overrides), ...fromCode };
}
