// The attack from issue 26: a burst of 40 bad keys from 127.0.0.1, then one every 2 s, beside a valid
// key and a runner key polling every 100 ms, for 20 s, under the default config. Prints the share of
// each sender's requests that got 429. Run: npx tsx registry/bench/failed-auth-flood.ts
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKey } from "../auth/keys.ts";
import { startRegistry } from "../node.ts";

const home = await mkdtemp(join(tmpdir(), "authbench-"));
const r = await startRegistry({ home, port: 0, log: () => {}, env: {} });
const key = async (owner: string, scopes: ("read" | "runner")[]) => (await createKey(r.services.db, { owner, name: "b", scopes }, 600)).token;
const user = await key("u", ["read"]);
const runner = await key("lr", ["runner"]);
const count = { user: [0, 0], runner: [0, 0], bad: [0, 0] } as Record<string, [number, number]>;
const hit = async (who: string, token: string) => {
  const s = (await fetch(`${r.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status;
  count[who]![0]++;
  if (s === 429) count[who]![1]++;
};
// The attack: a burst of 40 bad keys, then one every 2 s, while the valid keys work as usual.
for (let i = 0; i < 40; i++) await hit("bad", `mlk_badkey${"x".repeat(28)}`);
const end = Date.now() + 20_000;
const loop = async (who: string, token: () => string, every: number) => {
  while (Date.now() < end) {
    await hit(who, token());
    await new Promise((ok) => setTimeout(ok, every));
  }
};
await Promise.all([loop("user", () => user, 100), loop("runner", () => runner, 100), loop("bad", () => `mlk_badkey${"x".repeat(28)}`, 2_000)]);
for (const [who, [all, limited]] of Object.entries(count)) console.log(`${who}: ${limited}/${all} got 429 (${((100 * limited) / all).toFixed(0)}%)`);
await r.stop();
await rm(home, { recursive: true, force: true });
