import { args, intFlag, UsageError, type Command } from "../../sdk/cli/command.ts";
import { resolveConfig } from "../../sdk/cli/config.ts";
import { ENGINE_KINDS, PROVIDERS, type EngineKind, type Provider } from "../engine/config.ts";

const runner: Command = {
  name: "runner",
  usage: `  motion-lora runner start --registry URL --token TOKEN [--engine onnx|torch|auto] [--provider cpu|webgpu|cuda]
                   [--concurrency N] [--idle-exit SECONDS] [--lease-seconds N] [--cache DIR]`,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub !== "start") throw new UsageError(sub === undefined ? "runner needs a subcommand: start" : `unknown runner command '${sub}'; try 'runner start'`);
    const { values } = args(
      rest,
      {
        provider: { type: "string" },
        concurrency: { type: "string" },
        "idle-exit": { type: "string" },
        cache: { type: "string" },
        "lease-seconds": { type: "string" },
        engine: { type: "string" },
      },
      false,
    );
    const cfg = await resolveConfig(values);
    if (!cfg.token) throw new UsageError("runner start needs --token (a key with the 'runner' scope)");
    const provider = values.provider;
    if (provider !== undefined && !PROVIDERS.includes(provider as Provider)) throw new UsageError("--provider must be cpu, webgpu or cuda");
    const engine = values.engine;
    if (engine !== undefined && !ENGINE_KINDS.includes(engine as EngineKind)) throw new UsageError("--engine must be onnx, torch or auto");
    const idle = values["idle-exit"] === undefined ? null : Number(values["idle-exit"]);
    if (idle !== null && !(idle >= 0)) throw new UsageError("--idle-exit must be a number of seconds");
    const concurrency = intFlag("concurrency", values.concurrency);
    const leaseSeconds = intFlag("lease-seconds", values["lease-seconds"]);
    const { runRunner } = await import("./start.ts");
    await runRunner({
      registry: cfg.registry,
      token: cfg.token,
      ...(provider !== undefined && { provider: provider as Provider }),
      ...(engine !== undefined && { engine: engine as EngineKind }),
      ...(concurrency !== undefined && { concurrency }),
      ...(values.cache && { cacheDir: values.cache }),
      ...(leaseSeconds !== undefined && { leaseSeconds }),
      idleExitMs: idle === null ? null : idle * 1000,
    });
    return 0;
  },
};

/** The runner's own command: claim and run jobs from a registry until stopped or idle. */
export const runnerCommands: Command[] = [runner];
