import { and, asc, eq, lt, sql } from "drizzle-orm";
import type { Job, QueueState } from "../../sdk/schema/index.ts";
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

/** Runners connected now: polling (or polled within the grace) or holding a live lease. */
export async function connectedRunners(db: Db, now = Date.now()): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)` }).from(sql`(
    select ${runners.id} as id from ${runners} where ${runners.pollingUntil} >= ${now - RUNNER_GRACE_MS}
    union
    select ${jobs.runnerId} from ${jobs} where ${jobs.status} = 'running' and ${jobs.leaseExpiresAt} >= ${now} and ${jobs.runnerId} is not null
  )`);
  return Number(row?.n ?? 0);
}

interface OwnerTurn {
  owner: string;
  queued: number;
  running: number;
  served: number;
  oldest: number;
}

/** Whether `a` takes its turn before `b` in a round: fewer running jobs, then served least recently, then the older job (fair-share.ts's order). */
const before = (a: OwnerTurn, b: OwnerTurn) =>
  a.running !== b.running ? a.running < b.running : a.served !== b.served ? a.served < b.served : a.oldest < b.oldest;

/**
 * Where each of an owner's queued jobs stands: 1 is the next job a runner claims. Claims take
 * owners in turn (fair-share.ts), so the owner's r-th oldest job waits for its own r − 1 older ones
 * and, from each other owner, r jobs (taking its turn first) or r − 1 (after): exact for the next
 * round, an estimate beyond it (running counts change as jobs start). Kinds are not told apart.
 */
export async function queuePositions(db: Db, owner: string): Promise<Map<string, number>> {
  const turns: OwnerTurn[] = (
    await db
      .select({
        owner: jobs.owner,
        queued: sql<number>`count(*)`,
        oldest: sql<number>`min(${jobs.createdAt})`,
        running: sql<number>`(select count(*) from jobs r where r.owner = ${jobs.owner} and r.status = 'running')`,
        served: sql<number>`coalesce((select max(started_at) from jobs s where s.owner = ${jobs.owner}), 0)`,
      })
      .from(jobs)
      .where(eq(jobs.status, "queued"))
      .groupBy(jobs.owner)
  ).map((t) => ({ owner: t.owner, queued: Number(t.queued), running: Number(t.running), served: Number(t.served), oldest: Number(t.oldest) }));
  const mine = turns.find((t) => t.owner === owner);
  const positions = new Map<string, number>();
  if (!mine) return positions;
  const ids = await db
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(eq(jobs.owner, owner), eq(jobs.status, "queued")))
    .orderBy(asc(jobs.createdAt), asc(jobs.id));
  ids.forEach(({ id }, i) => {
    const rank = i + 1;
    let ahead = rank - 1;
    for (const t of turns) if (t !== mine) ahead += Math.min(t.queued, before(t, mine) ? rank : rank - 1);
    positions.set(id, ahead + 1);
  });
  return positions;
}

/** The jobs with `queue` filled in for the queued ones (their place in line and the runners connected), null for the rest. */
export async function withQueue<J extends Pick<Job, "id" | "owner" | "status">>(
  db: Db,
  list: J[],
  now = Date.now(),
): Promise<(J & { queue: QueueState | null })[]> {
  const queued = list.filter((j) => j.status === "queued");
  if (queued.length === 0) return list.map((j) => ({ ...j, queue: null }));
  const owners = [...new Set(queued.map((j) => j.owner))];
  const [count, ...maps] = await Promise.all([connectedRunners(db, now), ...owners.map((o) => queuePositions(db, o))]);
  const positions = new Map(maps.flatMap((m) => [...m]));
  return list.map((j) => {
    const position = j.status === "queued" ? positions.get(j.id) : undefined;
    return { ...j, queue: position === undefined ? null : { position, runners: count } };
  });
}
