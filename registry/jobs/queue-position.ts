import { lt, sql } from "drizzle-orm";
import type { Job, QueueState, RunnerOnDemand } from "../../sdk/schema/index.ts";
import type { Db } from "../db/client.ts";
import { jobs, runners } from "../db/schema.ts";

/**
 * A runner counts as connected while its long poll lasts and this long after (a runner polls
 * again at once, or within its poll interval of 1 s; a busy one holds a lease instead).
 */
export const RUNNER_GRACE_MS = 15_000;

/** Notes that a runner asked for work and waits up to `waitMs` (one upsert per claim request, not per re-check). */
export async function sawRunner(db: Db, id: string, waitMs: number, now = Date.now()): Promise<void> {
  const until = now + waitMs;
  await db
    .insert(runners)
    .values({ id, pollingUntil: until })
    .onConflictDoUpdate({ target: runners.id, set: { pollingUntil: until } });
}

/** Drops runners not heard from in a day (runner ids are per process, so they accumulate). */
export async function forgetRunners(db: Db, now = Date.now()): Promise<void> {
  await db.delete(runners).where(lt(runners.pollingUntil, now - 24 * 3600 * 1000));
}

/** A watched job as the shared poll reads it: its event counter and, while queued, where it stands. */
export interface JobStanding {
  eventSeq: number;
  queue: QueueState | null;
}

/**
 * Where each of the given jobs stands, in one query (the streams' shared poll runs it every second):
 * its event counter and, while queued, its place in line (1: the next job a runner claims) and the
 * runners connected. Claims take owners in turn (fair-share.ts: fewer running jobs first, then the
 * owner served least recently, then the older job), so an owner's r-th oldest queued job waits for
 * its own r − 1 older ones and, from each other owner, r jobs (when that owner takes its turn first)
 * or r − 1: exact for the next round, an estimate beyond it (running counts change as jobs start).
 * Kinds are not told apart. `onDemand` is how this registry gets a runner while none is connected
 * (RegistryConfig.runnerOnDemand), told with each standing so that 0 runners does not read as
 * "nothing will run it" where the registry is starting one.
 */
export async function jobStandings(db: Db, ids: string[], onDemand: RunnerOnDemand | null, now = Date.now()): Promise<Map<string, JobStanding>> {
  if (ids.length === 0) return new Map();
  // One bound parameter whatever the count (D1 allows 100 a query).
  const rows = await db.all<{ id: string; event_seq: number; position: number | null; runners: number }>(sql`
    with watched as (
      select id, owner, status, created_at, event_seq from jobs where id in (select value from json_each(${JSON.stringify(ids)}))
    ), turns as (
      select owner, count(*) as q, min(created_at) as oldest,
        (select count(*) from jobs r where r.owner = jobs.owner and r.status = 'running') as running,
        coalesce((select max(started_at) from jobs s where s.owner = jobs.owner), 0) as served
      from jobs
      where status = 'queued' and exists (select 1 from watched where watched.status = 'queued')
      group by owner
    ), ranked as (
      select w.id, w.owner,
        (select count(*) from jobs k where k.owner = w.owner and k.status = 'queued'
          and (k.created_at < w.created_at or (k.created_at = w.created_at and k.id <= w.id))) as rank
      from watched w where w.status = 'queued'
    )
    select w.id, w.event_seq,
      -- Only for a job queued now: one claimed since the caller listed it (or a streamed running one)
      -- gives the sum no row, and SQLite then reads rk.rank as 0 (a flattened subquery over no row), not null.
      case when w.status = 'queued' then (select rk.rank + coalesce(sum(min(t.q,
          case when t.running < m.running or (t.running = m.running and (t.served < m.served or (t.served = m.served and t.oldest < m.oldest)))
            then rk.rank else rk.rank - 1 end)), 0)
        from ranked rk join turns m on m.owner = rk.owner left join turns t on t.owner != rk.owner
        where rk.id = w.id) end as position,
      (select count(*) from (
        select ${runners.id} from ${runners} where ${runners.pollingUntil} >= ${now - RUNNER_GRACE_MS}
        union
        select ${jobs.runnerId} from ${jobs} where ${jobs.status} = 'running' and ${jobs.leaseExpiresAt} >= ${now} and ${jobs.runnerId} is not null
      ) where exists (select 1 from watched where watched.status = 'queued')) as runners
    from watched w`);
  return new Map(
    rows.map((r) => [
      r.id,
      {
        eventSeq: Number(r.event_seq),
        queue: r.position === null ? null : { position: Number(r.position), runners: Number(r.runners), runner_on_demand: onDemand },
      },
    ]),
  );
}

/** The jobs with `queue` filled in for the queued ones (their place in line, the runners connected and whether the registry starts one), null for the rest. */
export async function withQueue<J extends Pick<Job, "id" | "status">>(
  db: Db,
  list: J[],
  onDemand: RunnerOnDemand | null,
  now = Date.now(),
): Promise<(J & { queue: QueueState | null })[]> {
  const queued = list.filter((j) => j.status === "queued").map((j) => j.id);
  const standings = await jobStandings(db, queued, onDemand, now);
  return list.map((j) => ({ ...j, queue: standings.get(j.id)?.queue ?? null }));
}
