import { and, eq } from "drizzle-orm";
import type { JobCreate } from "../../sdk/schema/index.ts";
import type { Principal } from "../auth/keys.ts";
import type { BlobService } from "../blobs/service.ts";
import type { Db } from "../db/client.ts";
import { jobs } from "../db/schema.ts";
import type { BaseModelSpec } from "../base-model/spec.ts";
import type { LoraService } from "../loras/service.ts";
import { RegistryError } from "../http/errors.ts";
import { newId, sha256Hex } from "../ids.ts";
import type { JobEventLog } from "./events.ts";
import { checkGenerateLimits, checkTuneLimits } from "../base-model/job-limits.ts";
import { checkPrompt } from "../base-model/prompt.ts";
import { requireQueueRoom } from "./fair-share.ts";
import { splitRef } from "./refs.ts";
import { toJob, type JobRow } from "./rows.ts";
import type { WorkSignal } from "./work.ts";

type Creator = Principal & { owner: string };

/**
 * Job creation: checks everything a runner would otherwise find out after a claim (prompt words,
 * the target LoRA, readable inputs), pins generate jobs to concrete LoRA versions, and queues the
 * job once per idempotency key.
 */
export class JobCreation {
  constructor(
    private readonly db: Db,
    private readonly loras: LoraService,
    private readonly blobs: BlobService,
    private readonly events: JobEventLog,
    private readonly work: WorkSignal,
    private readonly baseModel: BaseModelSpec,
    private readonly maxAttempts: number,
    private readonly maxQueuedPerOwner = Number.MAX_SAFE_INTEGER,
  ) {}

  /** Creates a job; the same idempotency key and body returns the first job (`replayed`), another body is a 409. */
  async create(p: Creator, body: JobCreate, idempotencyKey: string | undefined, now = Date.now()) {
    const requestHash = await sha256Hex(JSON.stringify(body));
    if (idempotencyKey !== undefined) {
      const prior = await this.byIdempotencyKey(p.owner, idempotencyKey, requestHash);
      if (prior) return { job: toJob(prior), replayed: true };
    }
    await requireQueueRoom(this.db, p.owner, this.maxQueuedPerOwner);
    checkPrompt(body.input.prompt, this.baseModel, "input.prompt");
    if (body.kind === "tune") checkTuneLimits(body.input, this.baseModel);
    else checkGenerateLimits(body.input, this.baseModel);
    const resolved = body.kind === "tune" ? await this.checkTune(p, body.input) : await this.resolveLoras(p, body.input.loras);
    const row: JobRow = {
      id: newId("job", now),
      owner: p.owner,
      kind: body.kind,
      status: "queued",
      input: body.input,
      resolvedLoras: resolved,
      result: null,
      error: null,
      idempotencyKey: idempotencyKey ?? null,
      requestHash,
      attempts: 0,
      maxAttempts: this.maxAttempts,
      runnerId: null,
      leaseToken: null,
      leaseExpiresAt: null,
      progress: 0,
      stage: null,
      versionId: null,
      completionPending: 0,
      eventSeq: 0,
      webhookUrl: body.webhook ?? null,
      webhookEvents: body.webhook ? body.webhook_events_filter : null,
      keyId: p.keyId,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
    };
    const inserted = await this.db.insert(jobs).values(row).onConflictDoNothing().returning({ id: jobs.id });
    if (inserted.length === 0 && idempotencyKey !== undefined) {
      // Lost a race with a concurrent request carrying the same key.
      const prior = await this.byIdempotencyKey(p.owner, idempotencyKey, requestHash);
      if (prior) return { job: toJob(prior), replayed: true };
    }
    await this.events.append(row.id, "status", { status: "queued" }, now);
    this.work.notify();
    return { job: toJob(row), replayed: false };
  }

  private async byIdempotencyKey(owner: string, key: string, requestHash: string): Promise<JobRow | undefined> {
    const [prior] = await this.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.owner, owner), eq(jobs.idempotencyKey, key)))
      .limit(1);
    if (prior && prior.requestHash !== requestHash) {
      throw new RegistryError("idempotency_conflict", `Idempotency-Key '${key}' was already used for a different request (job ${prior.id}); use a new key`);
    }
    return prior;
  }

  private async checkTune(p: Creator, input: Extract<JobCreate, { kind: "tune" }>["input"]) {
    const ref = splitRef(input.lora);
    if (input.lora.includes("@"))
      throw new RegistryError("validation_failed", "'input.lora' names the LoRA that receives the new version: 'owner/name', without '@version'");
    // The result is published, granted and billed as the job's owner, into that owner's LoRA, admins'
    // jobs included: one into another owner's LoRA could never publish (it read 'running' forever).
    if (ref.owner !== p.owner) {
      throw new RegistryError(
        "tune_target_not_owned",
        `input.lora: a tune job publishes into a LoRA of its own owner '${p.owner}', not '${ref.owner}'; tune into '${p.owner}/${ref.name}', then publish the file to '${input.lora}' with POST /v1/loras/${input.lora}/versions`,
      );
    }
    const target = await this.loras.findWritable(p, ref.owner, ref.name).catch((e: unknown) => {
      if (!(e instanceof RegistryError && e.code === "not_found" && input.create)) throw e;
      return null;
    });
    if (target === null && !input.create) {
      throw new RegistryError(
        "not_found",
        `LoRA '${ref.owner}/${ref.name}' was not found; create it, or pass input.create to create it with its first version`,
      );
    }
    await this.blobs.requireClip(p, input.video_sha256, "input.video_sha256");
    return [];
  }

  /**
   * Pins each `owner/name[@v]` to a concrete version now, so later publishes do not change the job.
   * No read grant on the file: the caller reads it through the version while it is visible, and
   * not after the LoRA is made private or deleted.
   */
  private async resolveLoras(p: Creator, refs: { ref: string; weight: number; until?: number | undefined }[]) {
    const out = [];
    for (const [i, { ref, weight, until }] of refs.entries()) {
      const r = splitRef(ref);
      const { version } = await this.loras.version(p, r.owner, r.name, r.version).catch((e: unknown) => {
        if (e instanceof RegistryError && e.code === "not_found") throw new RegistryError("not_found", `input.loras.${i}: ${e.message}`);
        throw e;
      });
      out.push({ ref, version_id: version.id, file_sha256: version.file_sha256, weight, ...(until !== undefined && { until }) });
    }
    return out;
  }
}
