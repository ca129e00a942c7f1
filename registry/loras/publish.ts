import { and, desc, eq, max, sql } from "drizzle-orm";
import type { LoraCreate, LoraVersion, ScoredSample, VersionCreate } from "../../sdk/schema/index.ts";
import type { Principal } from "../auth/keys.ts";
import { readSafetensors } from "../blobs/sniff.ts";
import type { BlobService } from "../blobs/service.ts";
import type { BlobStore } from "../blobs/store.ts";
import type { Db } from "../db/client.ts";
import { loraVersions, loras } from "../db/schema.ts";
import { RegistryError } from "../http/errors.ts";
import { newId, sha256Hex } from "../ids.ts";
import type { BaseModelSpec } from "../base-model/spec.ts";
import { checkFinite, loraFacts } from "./metadata.ts";
import { toVersion, type LoraRow, type VersionRow } from "./rows.ts";
import type { LoraService } from "./service.ts";

type PublishOptions = { jobId?: string; now?: number };
/** A person's publish: the Idempotency-Key it carried, if any. */
type PersonOptions = { idempotencyKey?: string | undefined; now?: number };
type Published = { version: LoraVersion; replayed: boolean };
/** What a version is published from: a person's VersionCreate, or a tune result's, whose samples a runner scored. */
export type VersionInput = Omit<VersionCreate, "samples"> & { samples: (VersionCreate["samples"][number] | ScoredSample)[] };

/** The mean motion fidelity of the scored samples, and how many there are. */
export function transferOf(samples: VersionInput["samples"]): { transferFidelity: number | null; transferSamples: number } {
  const scores = samples.flatMap((s) => ("motion_fidelity" in s && s.motion_fidelity !== undefined ? [s.motion_fidelity] : []));
  return { transferFidelity: scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null, transferSamples: scores.length };
}

/**
 * Publishing immutable versions: every file is re-read and validated as hostile input (safetensors
 * header bounds, the base model's tensor names and shapes, finite values) before a version row
 * names it, whether a person publishes it or a tune job's result does.
 */
export class VersionPublisher {
  constructor(
    private readonly db: Db,
    private readonly catalog: LoraService,
    private readonly blobs: BlobService,
    private readonly store: BlobStore,
    private readonly baseModel: BaseModelSpec,
  ) {}

  /**
   * Publishes a new immutable version from an uploaded LoRA file. The file is re-read and
   * re-validated here (a blob may have been uploaded under another kind) and its metadata extracted.
   * A retry whose answer was lost publishes nothing new: the same Idempotency-Key and body, or the
   * body that published the latest version, returns that version (`replayed`).
   */
  async publish(p: Principal, owner: string, name: string, input: VersionCreate, opts: PersonOptions = {}): Promise<Published> {
    const lora = await this.catalog.findWritable(p, owner, name);
    const requestHash = await sha256Hex(JSON.stringify(input));
    const prior = await this.priorRequest(lora, requestHash, opts.idempotencyKey);
    if (prior) return { version: prior, replayed: true };
    // Every blob a version names becomes readable through it, so the publisher must be able to read
    // each already; one it cannot is "missing", exactly as an unknown hash is.
    await this.blobs.requireReadable(p, input.file_sha256, "file_sha256", "lora");
    if (input.preview_sha256) await this.blobs.requireReadable(p, input.preview_sha256, "preview_sha256", "preview");
    if (input.reference_video_sha256) await this.blobs.requireReadable(p, input.reference_video_sha256, "reference_video_sha256", "video");
    for (const [i, s] of input.samples.entries()) await this.blobs.requireReadable(p, s.preview_sha256, `samples.${i}.preview_sha256`, "preview");
    const now = opts.now ?? Date.now();
    const request = { idempotencyKey: opts.idempotencyKey ?? null, requestHash };
    const { file, header, facts } = await this.check(input);
    for (let attempt = 0; ; attempt++) {
      const published = await this.insert(lora, input, { file, header, facts }, { jobId: null, ...request }, now);
      if (published) return { version: published, replayed: false };
      // Lost a race: a concurrent request with the same key may have published it.
      const raced = await this.priorRequest(lora, requestHash, opts.idempotencyKey);
      if (raced) return { version: raced, replayed: true };
      if (attempt >= 5) throw tooManyPublishes();
    }
  }

  /**
   * The version an earlier request identical to this one published: the one its Idempotency-Key
   * made (a different body under that key is a 409), else the latest version, when the same body
   * published it. Either way latest_version is repaired if a publish half-landed before it.
   */
  private async priorRequest(lora: LoraRow, requestHash: string, key: string | undefined): Promise<LoraVersion | null> {
    const [byKey] =
      key === undefined
        ? []
        : await this.db
            .select()
            .from(loraVersions)
            .where(and(eq(loraVersions.loraId, lora.id), eq(loraVersions.idempotencyKey, key)))
            .limit(1);
    if (byKey && byKey.requestHash !== requestHash) {
      throw new RegistryError(
        "idempotency_conflict",
        `Idempotency-Key '${key}' already published version ${byKey.version} of '${lora.owner}/${lora.name}' from a different request; use a new key`,
      );
    }
    const [latest] = byKey
      ? [byKey]
      : await this.db.select().from(loraVersions).where(eq(loraVersions.loraId, lora.id)).orderBy(desc(loraVersions.version)).limit(1);
    if (!latest || latest.requestHash !== requestHash) return null;
    await this.repairLatest(lora.id);
    return toVersion(latest, lora);
  }

  /**
   * Everything `publishTo` checks about the blobs of `input`, without publishing: a tune job's
   * completion runs it before committing, so a result that could not be published is refused
   * while the runner still holds the job.
   */
  async check(input: VersionInput) {
    const inspected = await this.inspectLoraFile(input.file_sha256);
    if (input.preview_sha256) await this.blobs.require(input.preview_sha256, "preview_sha256", "preview");
    if (input.reference_video_sha256) await this.blobs.require(input.reference_video_sha256, "reference_video_sha256", "video");
    for (const [i, s] of input.samples.entries()) await this.blobs.require(s.preview_sha256, `samples.${i}.preview_sha256`, "preview");
    return inspected;
  }

  /** Like `publish`, for a LoRA and blobs already authorised (the job queue publishing a tune result). */
  async publishTo(lora: LoraRow, input: VersionInput, opts: PublishOptions = {}): Promise<LoraVersion> {
    const now = opts.now ?? Date.now();
    const byJob = async () => {
      if (!opts.jobId) return null;
      const [prior] = await this.db.select().from(loraVersions).where(eq(loraVersions.jobId, opts.jobId)).limit(1);
      if (!prior) return null;
      // A completion replayed after a publish that half-landed (an older registry wrote the version
      // and latest_version in two statements) must still move latest_version.
      await this.repairLatest(prior.loraId);
      return toVersion(prior, lora);
    };
    const prior = await byJob();
    if (prior) return prior;
    const inspected = await this.check(input);
    for (let attempt = 0; ; attempt++) {
      const published = await this.insert(lora, input, inspected, { jobId: opts.jobId ?? null, idempotencyKey: null, requestHash: null }, now);
      if (published) return published;
      const raced = await byJob();
      if (raced) return raced;
      if (attempt >= 5) throw tooManyPublishes();
    }
  }

  /**
   * Inserts the next version and moves latest_version in one batch (one transaction on libsql and
   * D1), so no crash can list a version that `latest` does not reach. Null when a concurrent
   * publish took the number, the job or the key (the caller looks for its prior version, or retries).
   */
  private async insert(
    lora: LoraRow,
    input: VersionInput,
    { file, header, facts }: Awaited<ReturnType<VersionPublisher["check"]>>,
    keys: Pick<VersionRow, "jobId" | "idempotencyKey" | "requestHash">,
    now: number,
  ): Promise<LoraVersion | null> {
    const [{ current } = { current: null }] = await this.db
      .select({ current: max(loraVersions.version) })
      .from(loraVersions)
      .where(eq(loraVersions.loraId, lora.id));
    const row: VersionRow = {
      id: newId("ver", now),
      loraId: lora.id,
      version: (current ?? 0) + 1,
      fileSha256: file.sha256,
      fileSize: file.size,
      previewSha256: input.preview_sha256 ?? null,
      referenceVideoSha256: input.reference_video_sha256 ?? null,
      baseModelId: facts.base_model_id,
      baseModelSha256: facts.base_model_sha256,
      rank: facts.rank,
      alpha: facts.alpha,
      stage: facts.stage,
      targetHeads: facts.target_heads,
      tuningConfig: facts.tuning_config ?? {},
      metadata: header.metadata,
      notes: input.notes,
      samples: input.samples,
      ...transferOf(input.samples),
      downloads: 0,
      ...keys,
      createdAt: now,
    };
    const [inserted] = await this.db.batch([
      this.db.insert(loraVersions).values(row).onConflictDoNothing().returning({ id: loraVersions.id }),
      this.latestQuery(lora.id, now),
    ]);
    this.catalog.changed();
    return inserted.length === 1 ? toVersion(row, lora) : null;
  }

  /** Sets latest_version to the LoRA's highest version where it is not already (versions are never removed). */
  private latestQuery(loraId: string, now: number) {
    const highest = sql`(select max(${loraVersions.version}) from ${loraVersions} where ${loraVersions.loraId} = ${loraId})`;
    return this.db
      .update(loras)
      .set({ latestVersion: highest, updatedAt: now })
      .where(and(eq(loras.id, loraId), sql`${loras.latestVersion} is not ${highest}`));
  }

  private async repairLatest(loraId: string) {
    const moved = await this.latestQuery(loraId, Date.now()).returning({ id: loras.id });
    if (moved.length > 0) this.catalog.changed();
  }

  /**
   * Re-reads a stored LoRA file and extracts its motion-LoRA facts, or throws 422 saying why the
   * runner could not use it. The header is bounded before it is read (a blob stored before the
   * bounds existed is refused here, not parsed), and values are read only once shapes are known.
   */
  async inspectLoraFile(sha256: string) {
    const file = await this.blobs.require(sha256, "file_sha256", "lora");
    const read = (s: number, e: number) => this.store.readBytes(file.sha256, s, e);
    const header = await readSafetensors(read, file.size, this.blobs.loraHeaderLimits).catch((e: Error) => {
      throw new RegistryError("invalid_safetensors", `file_sha256: not a valid LoRA safetensors file: ${e.message}`);
    });
    const facts = loraFacts(header, this.baseModel);
    await checkFinite(read, header);
    return { file, header, facts };
  }

  /**
   * Where a tune job of `jobOwner`'s publishes its result: the live LoRA of that slug; else, when the
   * job carries `create`, a new one made now (so a job that fails leaves no empty LoRA); else the
   * most recently deleted one (the result stays resolvable by hash).
   */
  async targetForJob(jobOwner: string, owner: string, name: string, create?: Omit<LoraCreate, "name" | "owner">, now = Date.now()): Promise<LoraRow> {
    const pick = async () => {
      const [row] = await this.db
        .select()
        .from(loras)
        .where(and(eq(loras.owner, owner), eq(loras.name, name)))
        .orderBy(sql`${loras.deletedAt} is null desc`, desc(loras.createdAt))
        .limit(1);
      return row;
    };
    let row = await pick();
    if ((!row || row.deletedAt !== null) && create && owner === jobOwner) {
      await this.catalog.create({ keyId: null, owner, scopes: ["write"], rateLimitPerMinute: 0 }, { ...create, name, owner }, now).catch((e: unknown) => {
        if (!(e instanceof RegistryError && e.code === "slug_taken")) throw e;
      });
      row = await pick();
    }
    if (!row || row.owner !== jobOwner) throw new RegistryError("not_found", `LoRA '${owner}/${name}' was not found`);
    return row;
  }
}

const tooManyPublishes = () => new RegistryError("conflict", "too many concurrent publishes to this LoRA; retry", undefined, { "Retry-After": "1" });
