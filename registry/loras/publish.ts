import { and, desc, eq, max, sql } from "drizzle-orm";
import type { LoraCreate, LoraVersion, VersionCreate } from "../../sdk/schema/index.ts";
import type { Principal } from "../auth/keys.ts";
import { readSafetensors } from "../blobs/sniff.ts";
import type { BlobService } from "../blobs/service.ts";
import type { BlobStore } from "../blobs/store.ts";
import type { Db } from "../db/client.ts";
import { loraVersions, loras } from "../db/schema.ts";
import { RegistryError } from "../http/errors.ts";
import { newId } from "../ids.ts";
import type { BaseModelSpec } from "../base-model/spec.ts";
import { checkFinite, loraFacts } from "./metadata.ts";
import { toVersion, type LoraRow, type VersionRow } from "./rows.ts";
import type { LoraService } from "./service.ts";

type PublishOptions = { jobId?: string; now?: number };

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
   */
  async publish(p: Principal, owner: string, name: string, input: VersionCreate, opts: PublishOptions = {}): Promise<LoraVersion> {
    const lora = await this.catalog.findWritable(p, owner, name);
    // Every blob a version names becomes readable through it, so the publisher must be able to read
    // each already; one it cannot is "missing", exactly as an unknown hash is.
    await this.blobs.requireReadable(p, input.file_sha256, "file_sha256", "lora");
    if (input.preview_sha256) await this.blobs.requireReadable(p, input.preview_sha256, "preview_sha256", "preview");
    if (input.reference_video_sha256) await this.blobs.requireReadable(p, input.reference_video_sha256, "reference_video_sha256", "video");
    for (const [i, s] of input.samples.entries()) await this.blobs.requireReadable(p, s.preview_sha256, `samples.${i}.preview_sha256`, "preview");
    return this.publishTo(lora, input, opts);
  }

  /**
   * Everything `publishTo` checks about the blobs of `input`, without publishing: a tune job's
   * completion runs it before committing, so a result that could not be published is refused
   * while the runner still holds the job.
   */
  async check(input: VersionCreate) {
    const inspected = await this.inspectLoraFile(input.file_sha256);
    if (input.preview_sha256) await this.blobs.require(input.preview_sha256, "preview_sha256", "preview");
    if (input.reference_video_sha256) await this.blobs.require(input.reference_video_sha256, "reference_video_sha256", "video");
    for (const [i, s] of input.samples.entries()) await this.blobs.require(s.preview_sha256, `samples.${i}.preview_sha256`, "preview");
    return inspected;
  }

  /** Like `publish`, for a LoRA and blobs already authorised (the job queue publishing a tune result). */
  async publishTo(lora: LoraRow, input: VersionCreate, opts: PublishOptions = {}): Promise<LoraVersion> {
    const now = opts.now ?? Date.now();
    if (opts.jobId) {
      const [prior] = await this.db.select().from(loraVersions).where(eq(loraVersions.jobId, opts.jobId)).limit(1);
      if (prior) return toVersion(prior, lora);
    }
    const { file, header, facts } = await this.check(input);

    for (let attempt = 0; ; attempt++) {
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
        downloads: 0,
        jobId: opts.jobId ?? null,
        createdAt: now,
      };
      const inserted = await this.db.insert(loraVersions).values(row).onConflictDoNothing().returning({ id: loraVersions.id });
      if (inserted.length === 1) {
        // max() keeps latest_version right when two publishes race.
        await this.db
          .update(loras)
          .set({ latestVersion: sql`max(coalesce(${loras.latestVersion}, 0), ${row.version})`, updatedAt: now })
          .where(eq(loras.id, lora.id));
        this.catalog.changed();
        return toVersion(row, lora);
      }
      if (opts.jobId) {
        const [prior] = await this.db.select().from(loraVersions).where(eq(loraVersions.jobId, opts.jobId)).limit(1);
        if (prior) return toVersion(prior, lora);
      }
      if (attempt >= 5) throw new RegistryError("conflict", "too many concurrent publishes to this LoRA; retry", undefined, { "Retry-After": "1" });
    }
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
