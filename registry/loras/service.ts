import { and, desc, eq, exists, isNull, lt, max, or, sql, type SQL } from "drizzle-orm";
import type { Lora, LoraCreate, LoraListQuery, LoraUpdate, LoraVersion, MotionCategory, Page, VersionCreate, Visibility } from "../../sdk/schema/index.ts";
import { hasScope, type Principal } from "../auth/keys.ts";
import { readSafetensors } from "../blobs/sniff.ts";
import type { BlobService } from "../blobs/service.ts";
import type { BlobStore } from "../blobs/store.ts";
import type { Db } from "../db/client.ts";
import { loraVersions, loras } from "../db/schema.ts";
import { decodeCursor, encodeCursor } from "../http/cursor.ts";
import { ApiError } from "../http/errors.ts";
import { iso, newId } from "../ids.ts";
import type { BaseModelSpec } from "./base-model.ts";
import { checkFinite, loraFacts } from "./metadata.ts";
import { ReadCache } from "./read-cache.ts";
import { visibleTo } from "./visibility.ts";

type LoraRow = typeof loras.$inferSelect;
type VersionRow = typeof loraVersions.$inferSelect;

export const toLora = (r: LoraRow): Lora => ({
  id: r.id,
  owner: r.owner,
  name: r.name,
  title: r.title,
  description: r.description,
  category: r.category as MotionCategory,
  tags: r.tags,
  license: r.license,
  visibility: r.visibility as Visibility,
  downloads: r.downloads,
  latest_version: r.latestVersion,
  created_at: iso(r.createdAt),
  updated_at: iso(r.updatedAt),
});

export const toVersion = (v: VersionRow, l: Pick<LoraRow, "owner" | "name">, withMetadata = true): LoraVersion => ({
  id: v.id,
  lora_id: v.loraId,
  owner: l.owner,
  name: l.name,
  version: v.version,
  file_sha256: v.fileSha256,
  file_size: v.fileSize,
  preview_sha256: v.previewSha256,
  reference_video_sha256: v.referenceVideoSha256,
  base_model_id: v.baseModelId,
  base_model_sha256: v.baseModelSha256,
  rank: v.rank,
  alpha: v.alpha,
  stage: v.stage as LoraVersion["stage"],
  target_heads: v.targetHeads,
  tuning_config: v.tuningConfig,
  ...(withMetadata ? { metadata: v.metadata } : {}),
  notes: v.notes,
  downloads: v.downloads,
  job_id: v.jobId,
  created_at: iso(v.createdAt),
});

const searchText = (name: string, title: string, tags: string[]) => [name, title, ...tags].join(" ").toLowerCase();
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The in-memory twin of `visibleTo`, for rows served from the read cache. */
function canSee(p: Principal, row: LoraRow): boolean {
  if (row.deletedAt !== null) return false;
  return hasScope(p, "admin") || row.visibility === "public" || row.owner === p.owner;
}

/** Cache keys for list pages: the same query can show different rows to different callers. */
const viewerKey = (p: Principal) => (hasScope(p, "admin") ? "admin" : p.owner === null ? "anon" : `owner:${p.owner}`);

export class LoraService {
  private readonly rows: ReadCache<LoraRow | null>;
  private readonly pages: ReadCache<Page<Lora>>;

  constructor(
    private readonly db: Db,
    private readonly blobs: BlobService,
    private readonly store: BlobStore,
    private readonly baseModel: BaseModelSpec,
    readCacheTtlMs = 1_000,
  ) {
    this.rows = new ReadCache(readCacheTtlMs, 10_000);
    this.pages = new ReadCache(readCacheTtlMs, 2_000);
  }

  /** Every catalog write goes through here, so reads in this process never see an older state. */
  private changed() {
    this.rows.clear();
    this.pages.clear();
  }

  async create(p: Principal & { owner: string }, input: LoraCreate, now = Date.now()): Promise<Lora> {
    const owner = input.owner ?? p.owner;
    if (owner !== p.owner && !hasScope(p, "admin")) {
      throw new ApiError("forbidden", `you may create LoRAs only under your own owner '${p.owner}'`);
    }
    const row: LoraRow = {
      id: newId("lora", now),
      owner,
      name: input.name,
      title: input.title,
      description: input.description,
      category: input.category,
      tags: input.tags,
      searchText: searchText(input.name, input.title, input.tags),
      license: input.license,
      visibility: input.visibility,
      downloads: 0,
      latestVersion: null,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    };
    // The unique index covers live rows only: a deleted LoRA's slug can be taken again, while its
    // versions stay resolvable by hash for the jobs that pinned them.
    const inserted = await this.db.insert(loras).values(row).onConflictDoNothing().returning({ id: loras.id });
    if (inserted.length === 0) throw new ApiError("slug_taken", `'${owner}/${input.name}' already exists; pick another name`);
    this.changed();
    return toLora(row);
  }

  /** The LoRA row if `p` may see it; 404 otherwise (private LoRAs are not confirmed to exist). */
  async find(p: Principal, owner: string, name: string): Promise<LoraRow> {
    const row = await this.rows.get(`${owner}/${name}`, async () => {
      const [found] = await this.db
        .select()
        .from(loras)
        .where(and(eq(loras.owner, owner), eq(loras.name, name), isNull(loras.deletedAt)))
        .limit(1);
      return found ?? null;
    });
    if (!row || !canSee(p, row)) throw new ApiError("not_found", `LoRA '${owner}/${name}' was not found`);
    return row;
  }

  /** The LoRA row if `p` may change it. */
  async findWritable(p: Principal, owner: string, name: string): Promise<LoraRow> {
    const row = await this.find(p, owner, name);
    if (row.owner !== p.owner && !hasScope(p, "admin")) {
      throw new ApiError("forbidden", `only '${row.owner}' may change '${owner}/${name}'`);
    }
    return row;
  }

  async update(p: Principal, owner: string, name: string, patch: LoraUpdate, now = Date.now()): Promise<Lora> {
    const row = await this.findWritable(p, owner, name);
    const next: LoraRow = { ...row, ...patch, updatedAt: now };
    next.searchText = searchText(next.name, next.title, next.tags);
    await this.db
      .update(loras)
      .set({
        title: next.title,
        description: next.description,
        category: next.category,
        tags: next.tags,
        searchText: next.searchText,
        license: next.license,
        visibility: next.visibility,
        updatedAt: now,
      })
      .where(eq(loras.id, row.id));
    this.changed();
    return toLora(next);
  }

  /** Soft delete: the LoRA disappears from listings, its versions stay downloadable by hash for existing jobs. */
  async remove(p: Principal, owner: string, name: string, now = Date.now()): Promise<void> {
    const row = await this.findWritable(p, owner, name);
    await this.db.update(loras).set({ deletedAt: now, updatedAt: now }).where(eq(loras.id, row.id));
    this.changed();
  }

  async list(p: Principal, q: LoraListQuery): Promise<Page<Lora>> {
    return this.pages.get(`${viewerKey(p)} ${JSON.stringify(q)}`, () => this.query(p, q));
  }

  private async query(p: Principal, q: LoraListQuery): Promise<Page<Lora>> {
    const where: (SQL | undefined)[] = [visibleTo(p)];
    if (q.q) where.push(sql`${loras.searchText} LIKE ${"%" + likeEscape(q.q.toLowerCase()) + "%"} ESCAPE '\\'`);
    if (q.category) where.push(eq(loras.category, q.category));
    if (q.owner) where.push(eq(loras.owner, q.owner));
    if (q.base_model) {
      where.push(
        exists(
          this.db
            .select({ one: sql`1` })
            .from(loraVersions)
            .where(and(eq(loraVersions.loraId, loras.id), eq(loraVersions.baseModelId, q.base_model))),
        ),
      );
    }
    const sortCol = q.sort === "downloads" ? loras.downloads : loras.createdAt;
    if (q.cursor) {
      const [v, id] = decodeCursor(q.cursor);
      where.push(or(lt(sortCol, v), and(eq(sortCol, v), lt(loras.id, id))));
    }
    const rows = await this.db
      .select()
      .from(loras)
      .where(and(...where))
      .orderBy(desc(sortCol), desc(loras.id))
      .limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    const next = rows.length > q.limit && last ? encodeCursor(q.sort === "downloads" ? last.downloads : last.createdAt, last.id) : null;
    return { data: page.map(toLora), next_cursor: next };
  }

  /**
   * Publishes a new immutable version from an uploaded LoRA file. The file is re-read and
   * re-validated here (a blob may have been uploaded under another kind) and its metadata extracted.
   */
  async publish(
    p: Principal,
    owner: string,
    name: string,
    input: VersionCreate,
    opts: { jobId?: string; now?: number } = {},
  ): Promise<LoraVersion> {
    const lora = await this.findWritable(p, owner, name);
    // Every blob a version names becomes readable through it, so the publisher must be able to read
    // each already; one it cannot is "missing", exactly as an unknown hash is.
    await this.blobs.requireReadable(p, input.file_sha256, "file_sha256", "lora");
    if (input.preview_sha256) await this.blobs.requireReadable(p, input.preview_sha256, "preview_sha256", "preview");
    if (input.reference_video_sha256) await this.blobs.requireReadable(p, input.reference_video_sha256, "reference_video_sha256", "video");
    return this.publishTo(lora, input, opts);
  }

  /** Like `publish`, for a LoRA and blobs already authorised (the job queue publishing a tune result). */
  async publishTo(lora: LoraRow, input: VersionCreate, opts: { jobId?: string; now?: number } = {}): Promise<LoraVersion> {
    const now = opts.now ?? Date.now();
    if (opts.jobId) {
      const [prior] = await this.db.select().from(loraVersions).where(eq(loraVersions.jobId, opts.jobId)).limit(1);
      if (prior) return toVersion(prior, lora);
    }
    const { file, header, facts } = await this.inspectLoraFile(input.file_sha256);
    if (input.preview_sha256) await this.blobs.require(input.preview_sha256, "preview_sha256", "preview");
    if (input.reference_video_sha256) await this.blobs.require(input.reference_video_sha256, "reference_video_sha256", "video");

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
        this.changed();
        return toVersion(row, lora);
      }
      if (opts.jobId) {
        const [prior] = await this.db.select().from(loraVersions).where(eq(loraVersions.jobId, opts.jobId)).limit(1);
        if (prior) return toVersion(prior, lora);
      }
      if (attempt >= 5) throw new ApiError("conflict", "too many concurrent publishes to this LoRA; retry", undefined, { "Retry-After": "1" });
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
      throw new ApiError("invalid_safetensors", `file_sha256: not a valid LoRA safetensors file: ${e.message}`);
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
      await this.create({ keyId: null, owner, scopes: ["write"], rateLimitPerMinute: 0 }, { ...create, name, owner }, now).catch((e: unknown) => {
        if (!(e instanceof ApiError && e.code === "slug_taken")) throw e;
      });
      row = await pick();
    }
    if (!row || row.owner !== jobOwner) throw new ApiError("not_found", `LoRA '${owner}/${name}' was not found`);
    return row;
  }

  async versions(p: Principal, owner: string, name: string, limit: number, cursor?: string, withMetadata = false): Promise<Page<LoraVersion>> {
    const lora = await this.find(p, owner, name);
    const where: SQL[] = [eq(loraVersions.loraId, lora.id)];
    if (cursor) where.push(lt(loraVersions.version, decodeCursor(cursor)[0]));
    const rows = await this.db
      .select()
      .from(loraVersions)
      .where(and(...where))
      .orderBy(desc(loraVersions.version))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { data: page.map((v) => toVersion(v, lora, withMetadata)), next_cursor: rows.length > limit && last ? encodeCursor(last.version, last.id) : null };
  }

  /** One version by number or 'latest'. */
  async version(p: Principal, owner: string, name: string, version: number | "latest") {
    const lora = await this.find(p, owner, name);
    const n = version === "latest" ? lora.latestVersion : version;
    const [row] =
      n === null
        ? []
        : await this.db
            .select()
            .from(loraVersions)
            .where(and(eq(loraVersions.loraId, lora.id), eq(loraVersions.version, n)))
            .limit(1);
    if (!row) throw new ApiError("not_found", `'${owner}/${name}' has no version ${version}`);
    return { lora, row, version: toVersion(row, lora) };
  }

  /** Counts one full download of a version's file. */
  async countDownload(lora: Pick<LoraRow, "id" | "owner" | "name">, versionId: string) {
    const { id: loraId, owner, name } = lora;
    await this.db.update(loras).set({ downloads: sql`${loras.downloads} + 1` }).where(eq(loras.id, loraId));
    await this.db.update(loraVersions).set({ downloads: sql`${loraVersions.downloads} + 1` }).where(eq(loraVersions.id, versionId));
    // Only this LoRA's row: sorted pages may show a count up to one TTL old, which a count can afford.
    this.rows.delete(`${owner}/${name}`);
  }
}
