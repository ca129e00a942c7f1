import { JobErrorCode, type Job, type JobKind, type JobStatus } from "../../sdk/schema/index.ts";
import type { jobs } from "../db/schema.ts";
import { iso, isoOrNull } from "../ids.ts";

export type JobRow = typeof jobs.$inferSelect;

/** Statuses a job can still leave: cancel, claim and expiry act on these only. */
export const ACTIVE: JobStatus[] = ["queued", "running"];

/**
 * A stored failure as the API reports it. Rows written before the codes were an enum may carry any
 * lowercase code; those read as `runner_error` (their message is kept), so old jobs still validate.
 */
function jobError(error: JobRow["error"]): Job["error"] {
  if (error === null) return null;
  const code = JobErrorCode.safeParse(error.code);
  return { code: code.success ? code.data : "runner_error", message: error.message };
}

/** The API shape of a job row. A committed completion whose version and events are not written yet still reads as running. */
export const toJob = (r: JobRow): Job => ({
  id: r.id,
  kind: r.kind as JobKind,
  status: (r.completionPending ? "running" : r.status) as JobStatus,
  owner: r.owner,
  input: r.input,
  resolved_loras: r.resolvedLoras as Job["resolved_loras"],
  result: r.result,
  error: jobError(r.error),
  progress: r.progress,
  stage: r.stage,
  attempts: r.attempts,
  max_attempts: r.maxAttempts,
  version_id: r.versionId,
  webhook: r.webhookUrl,
  webhook_events_filter: (r.webhookEvents ?? []) as Job["webhook_events_filter"],
  created_at: iso(r.createdAt),
  started_at: isoOrNull(r.startedAt),
  finished_at: isoOrNull(r.finishedAt),
  updated_at: iso(r.updatedAt),
});
