import { readFile } from "node:fs/promises";
import { args, UsageError, type Command } from "../../sdk/cli/command.ts";
import { resolveLogin } from "../../sdk/cli/login.ts";
import { MAX_SAMPLES } from "../../sdk/schema/loras.ts";
import { ENGINE_KINDS, PROVIDERS, type EngineKind, type Provider } from "../engine/kinds.ts";

/**
 * The variable each flag falls back to when it is not given: a container is configured by its
 * environment (gpu-runner/Containerfile), where flags would mean a new image or entrypoint.
 * MOTION_LORA_REGISTRY and MOTION_LORA_TOKEN are read by resolveLogin, as for every command.
 */
export const RUNNER_ENV = {
  engine: "MOTION_LORA_ENGINE",
  provider: "MOTION_LORA_PROVIDER",
  concurrency: "MOTION_LORA_CONCURRENCY",
  "idle-exit": "MOTION_LORA_IDLE_EXIT",
  "lease-seconds": "MOTION_LORA_LEASE_SECONDS",
  cache: "MOTION_LORA_CACHE",
  "batch-window": "MOTION_LORA_BATCH_WINDOW",
  samples: "MOTION_LORA_SAMPLES",
} as const;
type Setting = keyof typeof RUNNER_ENV;

const runner: Command = {
  name: "runner",
  usage: `  motion-lora runner start --registry URL [--token-file FILE] [--engine onnx|torch|auto] [--provider cpu|webgpu|cuda]
                   [--concurrency N] [--batch-window MS] [--samples N] [--idle-exit SECONDS] [--lease-seconds N] [--cache DIR]
                   (a flag not given is read from MOTION_LORA_ + its name: MOTION_LORA_ENGINE, _PROVIDER,
                   _CONCURRENCY, _BATCH_WINDOW, _SAMPLES, _IDLE_EXIT, _LEASE_SECONDS, _CACHE, _REGISTRY, _TOKEN; how a container is set up)`,
  help: `Claims jobs from a registry and runs them until stopped (SIGTERM hands the running job back).
  --registry URL         the registry (or MOTION_LORA_REGISTRY)
  --token-file FILE      a file holding a key with the 'runner' scope; or MOTION_LORA_TOKEN. (--token
                         works too but shows the key to anyone who can list processes, so it warns)
  --engine E             onnx (the default), torch (PyTorch in a Python process) or auto (torch where it sees CUDA)
  --provider P           ONNX Runtime's device: cpu, webgpu or cuda
  --concurrency N        jobs at once; on the torch engine, also the most tunes (or generations) run as one batch
  --batch-window MS      how long a claimed tune or generation waits for others to run beside it (torch engine; default 250, 0: alone)
  --samples N            clips made with each new LoRA on new prompts, each scored against its reference and shown
                         on its gallery page (default 3, at most 8; 0: none)
  --idle-exit SECONDS    exits after this long without work
  --lease-seconds N      how long a claim lasts without a heartbeat
  --cache DIR            where inputs are cached by sha256`,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub !== "start") throw new UsageError(sub === undefined ? "runner needs a subcommand: start" : `unknown runner command '${sub}'; try 'runner start'`);
    const { values } = args(
      rest,
      {
        ...(Object.fromEntries(Object.keys(RUNNER_ENV).map((k) => [k, { type: "string" }])) as Record<Setting, { type: "string" }>),
        "token-file": { type: "string" },
      },
      false,
    );
    if (values.token !== undefined)
      console.error("warning: --token shows the key to anyone who can list processes (ps); use MOTION_LORA_TOKEN or --token-file FILE");
    const fromFile = values["token-file"] === undefined ? undefined : (await readFile(values["token-file"], "utf8")).trim();
    if (fromFile === "") throw new UsageError(`--token-file ${values["token-file"]} is empty; put the runner key in it`);
    const cfg = await resolveLogin({ ...values, ...(fromFile !== undefined && { token: fromFile }) });
    if (!cfg.token) throw new UsageError("runner start needs a key with the 'runner' scope: MOTION_LORA_TOKEN or --token-file FILE");
    // A flag wins over its variable; an empty variable counts as unset. Errors name where the value came from.
    const setting = (k: Setting): { value: string; from: string } | undefined => {
      const flag = values[k];
      if (flag !== undefined) return { value: flag, from: `--${k}` };
      const env = process.env[RUNNER_ENV[k]];
      return env ? { value: env, from: RUNNER_ENV[k] } : undefined;
    };
    const oneOf = <T extends string>(k: Setting, allowed: readonly T[]): T | undefined => {
      const s = setting(k);
      if (s !== undefined && !allowed.includes(s.value as T)) throw new UsageError(`${s.from} must be ${allowed.join(", ")}; got '${s.value}'`);
      return s?.value as T | undefined;
    };
    const integer = (k: Setting, min = 0): number | undefined => {
      const s = setting(k);
      if (s !== undefined && !(Number.isInteger(Number(s.value)) && Number(s.value) >= min))
        throw new UsageError(`${s.from} must be a whole number ≥ ${min}, got '${s.value}'`);
      return s === undefined ? undefined : Number(s.value);
    };
    const provider = oneOf<Provider>("provider", PROVIDERS);
    const engine = oneOf<EngineKind>("engine", ENGINE_KINDS);
    const idle = setting("idle-exit");
    if (idle !== undefined && !(Number(idle.value) >= 0)) throw new UsageError(`${idle.from} must be a number of seconds; got '${idle.value}'`);
    const concurrency = integer("concurrency", 1);
    const leaseSeconds = integer("lease-seconds", 1);
    const batchWindowMs = integer("batch-window");
    const samples = integer("samples");
    if (samples !== undefined && samples > MAX_SAMPLES)
      throw new UsageError(`${setting("samples")!.from} must be at most ${MAX_SAMPLES} (a version holds ${MAX_SAMPLES} samples); got '${samples}'`);
    const cacheDir = setting("cache")?.value;
    const { runRunner } = await import("./start.ts");
    await runRunner({
      registry: cfg.registry,
      token: cfg.token,
      ...(provider !== undefined && { provider }),
      ...(engine !== undefined && { engine }),
      ...(concurrency !== undefined && { concurrency }),
      ...(batchWindowMs !== undefined && { batchWindowMs }),
      ...(samples !== undefined && { samples }),
      ...(cacheDir && { cacheDir }),
      ...(leaseSeconds !== undefined && { leaseSeconds }),
      idleExitMs: idle === undefined ? null : Number(idle.value) * 1000,
    });
    return 0;
  },
};

/** The runner's own command: claim and run jobs from a registry until stopped or idle. */
export const runnerCommands: Command[] = [runner];
