import { and, count, eq, sql } from "drizzle-orm";
import type { JobKind } from "../../sdk/schema/index.ts";
import type { Db } from "../db/client.ts";
import { jobs } from "../db/schema.ts";
import { RegistryError } from "../http/errors.ts";

/**
 * How runners are shared between owners. A claim takes the oldest queued job of the owner with the
 * fewest running jobs, ties going to the owner served least recently (whose latest job started
 * first), so owners take turns: one owner's backlog of 40 no longer puts another's job 41st. An
 * owner at `maxRunning` waits while others' jobs are claimed.
 */
export function nextJobId(kinds: JobKind[], maxRunning: number) {
  const k = JSON.stringify(kinds);
  // Each owner's oldest queued job, then the owner's running count and latest start (indexed by owner).
  return sql`(
    with heads as (
      select owner, min(created_at) as at from jobs
      where status = 'queued' and kind in (select value from json_each(${k}))
      group by owner
    ), ranked as (
      select owner, at,
        (select count(*) from jobs r where r.owner = heads.owner and r.status = 'running') as running,
        (select max(started_at) from jobs s where s.owner = heads.owner) as served
      from heads
    )
    select j.id from ranked
    join jobs j on j.owner = ranked.owner and j.status = 'queued' and j.created_at = ranked.at
      and j.kind in (select value from json_each(${k}))
    where ranked.running < ${maxRunning}
    order by ranked.running, coalesce(ranked.served, 0), ranked.at, j.id
    limit 1
  )`;
}

/**
 * Refuses a job an owner has no room for: at most `maxQueued` queued at once. Creations racing
 * each other can each see room (no interactive transaction holds the count, decision 4), so a burst
 * may pass by as many as it holds requests in flight; the rate limit bounds that.
 */
export async function requireQueueRoom(db: Db, owner: string, maxQueued: number): Promise<void> {
  const [row] = await db
    .select({ n: count() })
    .from(jobs)
    .where(and(eq(jobs.owner, owner), eq(jobs.status, "queued")));
  const n = row?.n ?? 0;
  if (n >= maxQueued) {
    throw new RegistryError(
      "queue_full",
      `owner '${owner}' already has ${n} jobs queued, the most it may; wait for some to start (or cancel some) and retry`,
      { queued: n, limit: maxQueued },
      { "Retry-After": "30" },
    );
  }
}
