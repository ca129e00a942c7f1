import { readFile } from "node:fs/promises";
import { args, intFlag, UsageError, type Command } from "../../sdk/cli/command.ts";
import { resolveConfig } from "../../sdk/cli/config.ts";
import { ENGINE_KINDS, PROVIDERS, type EngineKind, type Provider } from "../engine/config.ts";

const runner: Command = {
  name: "runner",
  usage: `  motion-lora runner start --registry URL [--token-file FILE] [--engine onnx|torch|auto] [--provider cpu|webgpu|cuda]
                   [--concurrency N] [--idle-exit SECONDS] [--lease-seconds N] [--cache DIR]`,
  help: `Claims jobs from a registry and runs them until stopped (SIGTERM hands the running job back).
  --registry URL         the registry (or MOTION_LORA_REGISTRY)
  --token-file FILE      a file holding a key with the 'runner' scope; or MOTION_LORA_TOKEN. (--token
                         works too but shows the key to anyone who can list processes, so it warns)
  --engine E             onnx (the default), torch (a PyTorch worker) or auto (torch where it sees CUDA)
  --provider P           ONNX Runtime's device: cpu, webgpu or cuda
  --concurrency N        jobs at once
  --idle-exit SECONDS    exits after this long without work
  --lease-seconds N      how long a claim lasts without a heartbeat
  --cache DIR            where inputs are cached by sha256`,
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
        "token-file": { type: "string" },
      },
      false,
    );
    if (values.token !== undefined)
      console.error("warning: --token shows the key to anyone who can list processes (ps); use MOTION_LORA_TOKEN or --token-file FILE");
    const fromFile = values["token-file"] === undefined ? undefined : (await readFile(values["token-file"], "utf8")).trim();
    if (fromFile === "") throw new UsageError(`--token-file ${values["token-file"]} is empty; put the runner key in it`);
    const cfg = await resolveConfig({ ...values, ...(fromFile !== undefined && { token: fromFile }) });
    if (!cfg.token) throw new UsageError("runner start needs a key with the 'runner' scope: MOTION_LORA_TOKEN or --token-file FILE");
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
