import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { authenticate, createKey } from "../auth/keys.ts";
import type { Db } from "../db/client.ts";

/** The embedded registry's own runner key: reused across restarts, made anew when it no longer authenticates. */
export async function localRunnerToken(db: Db, home: string, rateLimit: number): Promise<string> {
  const path = join(home, "local-runner.key");
  const saved = (await readFile(path, "utf8").catch(() => "")).trim();
  if (saved) {
    const ok = await authenticate(db, saved).then(
      () => true,
      () => false,
    );
    if (ok) return saved;
  }
  // Runners poll once a second and heartbeat per job; give the key room for that and its uploads.
  const key = await createKey(
    db,
    { owner: "local-runner", name: "embedded local runner", scopes: ["runner"], rate_limit_per_minute: Math.max(rateLimit, 6_000) },
    rateLimit,
  );
  await writeFile(path, `${key.token}\n`, { mode: 0o600 });
  return key.token;
}
