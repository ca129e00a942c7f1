import { args, intFlag, untilSignal, UsageError, type Command } from "../../sdk/cli/command.ts";
import { logger, type LogFormat } from "./log.ts";

const RUNNER_MODES = ["local", "webhook", "off"] as const;
const LOG_FORMATS: LogFormat[] = ["pretty", "json", "debug"];

const registry: Command = {
  name: "registry",
  usage: `  motion-lora registry start [--port 8787] [--host 127.0.0.1] [--runner local|webhook|off]
                   [--runner-webhook URL] [--log pretty|json|debug] [--public-url URL] [--config FILE]
                   (log: pretty on a terminal, else json; public-url, or MOTION_LORA_PUBLIC_URL: what the
                   gallery's snippets name, default the listening address; config: JSON of RegistryConfig fields,
                   as the Worker's MOTION_LORA_CONFIG, which is read when --config is not given;
                   runner: local starts a CPU runner on demand, the default;
                   MOTION_LORA_HOME, default ./.motion-lora, holds the database and blobs)`,
  common: false,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub !== "start")
      throw new UsageError(sub === undefined ? "registry needs a subcommand: start" : `unknown registry command '${sub}'; try 'registry start'`);
    const { values } = args(
      rest,
      {
        port: { type: "string" },
        host: { type: "string" },
        runner: { type: "string" },
        "runner-webhook": { type: "string" },
        log: { type: "string" },
        "public-url": { type: "string" },
        config: { type: "string" },
      },
      false,
    );
    const format = values.log ?? (process.stderr.isTTY ? "pretty" : "json");
    if (!LOG_FORMATS.includes(format as LogFormat)) throw new UsageError("--log must be pretty, json or debug");
    const mode = values.runner ?? process.env.MOTION_LORA_RUNNER ?? (values["runner-webhook"] ? "webhook" : "local");
    if (!RUNNER_MODES.includes(mode as "local")) throw new UsageError("--runner must be local, webhook or off");
    const hook = values["runner-webhook"] ?? process.env.MOTION_LORA_RUNNER_WEBHOOK;
    if (mode === "webhook" && !hook) throw new UsageError("--runner webhook needs --runner-webhook URL (or MOTION_LORA_RUNNER_WEBHOOK)");
    const port = intFlag("port", values.port);
    const [{ startRegistry, parsePublicUrl }, { ConfigError }] = await Promise.all([import("../node.ts"), import("../config-overrides.ts")]);
    let publicUrl: string | undefined;
    try {
      publicUrl = values["public-url"] === undefined ? undefined : parsePublicUrl(values["public-url"], "--public-url");
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const r = await startRegistry({
      ...(publicUrl && { config: { publicUrl } }),
      ...(values.config !== undefined && { configFile: values.config }),
      ...(port !== undefined && { port }),
      ...(values.host && { host: values.host }),
      runner: mode as (typeof RUNNER_MODES)[number],
      log: logger(format as LogFormat),
      ...(hook && { runnerWebhookUrl: hook }),
      ...(process.env.MOTION_LORA_RUNNER_WEBHOOK_SECRET && { runnerWebhookSecret: process.env.MOTION_LORA_RUNNER_WEBHOOK_SECRET }),
    }).catch((e: unknown) => {
      // A wrong setting is a bad file or variable (exit 2), named field by field.
      throw e instanceof ConfigError ? new UsageError(`the registry's settings were refused: ${e.message}`) : e;
    });
    console.error(`motion-lora registry listening on ${r.url} (data in ${r.home}); API docs at ${r.url}/docs`);
    await untilSignal();
    await r.stop();
    return 0;
  },
};

const keys: Command = {
  name: "keys",
  usage: `  motion-lora keys create --owner NAME [--scope read,write] [--name TEXT] [--rate-limit N] [--sql | --worker] [--json]
  motion-lora keys list [--worker] | keys revoke KEY_ID [--worker]
                   (act on MOTION_LORA_HOME's database directly: how the first admin key is made;
                   --worker: the local Worker's D1 that \`npm run dev:worker\` keeps there; --sql: an INSERT for a D1 elsewhere)`,
  common: false,
  // Loaded on use: the database client is no cost for every other command.
  run: async ([sub, ...rest]) => (await import("./keys.ts")).keysCommand(sub, rest),
};

/** The registry's own commands: serve the registry, and manage keys in its database. */
export const registryCommands: Command[] = [registry, keys];
