import { parseArgs } from "node:util";

const USAGE = `motion-lora — share and apply motion LoRAs

Usage:
  motion-lora registry start [--port 8787] [--host 127.0.0.1]   start the embedded registry (SQLite + local blobs)
  motion-lora keys create --owner NAME [--scope read,write] [--name TEXT] [--rate-limit N]
  motion-lora keys list
  motion-lora keys revoke KEY_ID

Environment: MOTION_LORA_HOME (default ./.motion-lora) holds the registry's database and blobs.
Key commands act on that local database directly: they are how the first admin key is made.`;

/** Exit codes: 0 ok, 1 the operation failed, 2 the command line was wrong. */
export async function main(argv: string[]): Promise<number> {
  const [group, command, ...rest] = argv;
  if (group === undefined || group === "help" || group === "--help" || group === "-h") {
    console.log(USAGE);
    return 0;
  }
  if (group === "registry" && command === "start") {
    const { values } = parseArgs({ args: rest, options: { port: { type: "string" }, host: { type: "string" } } });
    const { startRegistry } = await import("../../registry/node.ts");
    const r = await startRegistry({
      ...(values.port ? { port: Number(values.port) } : {}),
      ...(values.host ? { host: values.host } : {}),
    });
    console.error(`motion-lora registry listening on ${r.url} (data in ${r.home}); API docs at ${r.url}/docs`);
    await new Promise<void>((done) => {
      const stop = () => void r.stop().then(done);
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    return 0;
  }
  if (group === "keys") {
    const { keysCommand } = await import("../../registry/cli/keys.ts");
    return keysCommand(command, rest);
  }
  console.error(`unknown command '${argv.join(" ")}'\n\n${USAGE}`);
  return 2;
}
