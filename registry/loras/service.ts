import { and, desc, eq, exists, isNull, lt, ne, or, sql, type SQL } from "drizzle-orm";
import type { Lora, LoraCreate, LoraListQuery, LoraUpdate, LoraVersion, Page, TransferScore } from "../../sdk/schema/index.ts";
import { hasScope, type Principal } from "../auth/keys.ts";
import type { Db } from "../db/client.ts";
import { loraVersions, loras } from "../db/schema.ts";
import { decodeCursor, encodeCursor } from "../http/cursor.ts";
import { RegistryError } from "../http/errors.ts";
import { README_RENDERER, renderReadme } from "../gallery/markdown.ts";
import { newId } from "../ids.ts";
import { ReadCache } from "./read-cache.ts";
import { loraColumns, toLora, toVersion, transferScore, type LoraRow } from "./rows.ts";
import { visibleTo } from "./visibility.ts";

const searchText = (name: string, title: string, tags: string[]) => [name, title, ...tags].join(" ").toLowerCase();
// Listings never show the README: a page of 24 cards need not read 24 × 50 KB.
const { readme: _readme, ...listColumns } = loraColumns;

/** The in-memory twin of `visibleTo`, for rows served from the read cache. */
function canSee(p: Principal, row: LoraRow): boolean {
  if (row.deletedAt !== null) return false;
  return hasScope(p, "admin") || row.visibility === "public" || row.owner === p.owner;
}

/** Cache keys for list pages: the same query can show different rows to different callers. */
const viewerKey = (p: Principal) => (hasScope(p, "admin") ? "admin" : p.owner === null ? "anon" : `owner:${p.owner}`);

/**
 * The catalog: LoRAs (create, find, update, soft delete, search) and reads of their versions, behind
 * a short-lived read cache. Publishing versions is publish.ts's.
 */
export class LoraService {
  private readonly rows: ReadCache<LoraRow | null>;
  private readonly pages: ReadCache<Page<Lora>>;

  constructor(
    private readonly db: Db,
    readCacheTtlMs = 1_000,
  ) {
    this.rows = new ReadCache(readCacheTtlMs, 10_000);
    this.pages = new ReadCache(readCacheTtlMs, 2_000);
  }

  /** Every catalog write (publishing included) goes through here, so reads in this process never see an older state. */
  changed() {
    this.rows.clear();
    this.pages.clear();
  }

  /** Creates a LoRA under the caller's owner (any owner for admins); a live slug is a 409. */
  async create(p: Principal & { owner: string }, input: LoraCreate, now = Date.now()): Promise<Lora> {
    const owner = input.owner ?? p.owner;
    if (owner !== p.owner && !hasScope(p, "admin")) {
      throw new RegistryError("forbidden", `you may create LoRAs only under your own owner '${p.owner}'`);
    }
    const row: LoraRow = {
      id: newId("lora", now),
      owner,
      name: input.name,
      title: input.title,
      description: input.description,
      readme: input.readme,
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
    const inserted = await this.db
      .insert(loras)
      .values({ ...row, readmeHtml: renderReadme(row.readme), readmeRenderer: README_RENDERER })
      .onConflictDoNothing()
      .returning({ id: loras.id });
    if (inserted.length === 0) throw new RegistryError("slug_taken", `'${owner}/${input.name}' already exists; pick another name`);
    this.changed();
    return toLora(row);
  }

  /** The LoRA row if `p` may see it; 404 otherwise (private LoRAs are not confirmed to exist). */
  async find(p: Principal, owner: string, name: string): Promise<LoraRow> {
    const row = await this.rows.get(`${owner}/${name}`, async () => {
      const [found] = await this.db
        .select(loraColumns)
        .from(loras)
        .where(and(eq(loras.owner, owner), eq(loras.name, name), isNull(loras.deletedAt)))
        .limit(1);
      return found ?? null;
    });
    if (!row || !canSee(p, row)) throw new RegistryError("not_found", `LoRA '${owner}/${name}' was not found`);
    return row;
  }

  /** The LoRA row if `p` may change it. */
  async findWritable(p: Principal, owner: string, name: string): Promise<LoraRow> {
    const row = await this.find(p, owner, name);
    if (row.owner !== p.owner && !hasScope(p, "admin")) {
      throw new RegistryError("forbidden", `only '${row.owner}' may change '${owner}/${name}'`);
    }
    return row;
  }

  /** Changes a LoRA's catalog fields (not its versions, which are immutable). */
  async update(p: Principal, owner: string, name: string, patch: LoraUpdate, now = Date.now()): Promise<Lora> {
    const row = await this.findWritable(p, owner, name);
    const next: LoraRow = { ...row, ...patch, updatedAt: now };
    next.searchText = searchText(next.name, next.title, next.tags);
    await this.db
      .update(loras)
      .set({
        title: next.title,
        description: next.description,
        readme: next.readme,
        // Rendered here, once per README written, so no page view renders one.
        ...(patch.readme === undefined ? {} : { readmeHtml: renderReadme(next.readme), readmeRenderer: README_RENDERER }),
        category: next.category,
        tags: next.tags,
        searchText: next.searchText,
        license: next.license,
        visibility: next.visibility,
        updatedAt: now,
      })
      .where(eq(loras.id, row.id));
    this.changed();
    return toLora(next, true);
  }

  /** Soft delete: the LoRA disappears from listings, its versions stay downloadable by hash for existing jobs. */
  async remove(p: Principal, owner: string, name: string, now = Date.now()): Promise<void> {
    const row = await this.findWritable(p, owner, name);
    await this.db.update(loras).set({ deletedAt: now, updatedAt: now }).where(eq(loras.id, row.id));
    this.changed();
  }

  /** A page of the LoRAs `p` may see, filtered and sorted as asked. */
  async list(p: Principal, q: LoraListQuery): Promise<Page<Lora>> {
    return this.pages.get(`${viewerKey(p)} ${JSON.stringify(q)}`, () => this.query(p, q));
  }

  private async query(p: Principal, q: LoraListQuery): Promise<Page<Lora>> {
    const where: (SQL | undefined)[] = [visibleTo(p)];
    // instr, not LIKE: D1 refuses LIKE patterns over 50 bytes (a 49-byte search answered 500), and
    // both sides are lower-cased by JavaScript, so the match needs no case folding of SQLite's.
    if (q.q) where.push(sql`instr(${loras.searchText}, ${q.q.toLowerCase()}) > 0`);
    if (q.category) where.push(eq(loras.category, q.category));
    if (q.owner) where.push(eq(loras.owner, q.owner));
    if (q.tag) where.push(sql`exists (select 1 from json_each(${loras.tags}) where value = ${q.tag})`);
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
      .select(listColumns)
      .from(loras)
      .where(and(...where))
      .orderBy(desc(sortCol), desc(loras.id))
      .limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    const next = rows.length > q.limit && last ? encodeCursor(q.sort === "downloads" ? last.downloads : last.createdAt, last.id) : null;
    return { data: page.map((r) => toLora(r)), next_cursor: next };
  }

  /**
   * The README as HTML for the gallery: stored when it was written; a row from before that (or from
   * an older renderer) is rendered on its first view and stored, so each README renders once.
   */
  async readmeHtml(row: LoraRow): Promise<string> {
    const [stored] = await this.db
      .select({ html: loras.readmeHtml, renderer: loras.readmeRenderer })
      .from(loras)
      .where(and(eq(loras.id, row.id), eq(loras.updatedAt, row.updatedAt)))
      .limit(1);
    if (stored?.renderer === README_RENDERER) return stored.html;
    const html = renderReadme(row.readme);
    // Only over the row it was rendered from: a write in between keeps the HTML it stored.
    await this.db
      .update(loras)
      .set({ readmeHtml: html, readmeRenderer: README_RENDERER })
      .where(and(eq(loras.id, row.id), eq(loras.updatedAt, row.updatedAt), ne(loras.readmeRenderer, README_RENDERER)));
    return html;
  }

  /** What a card shows of each LoRA's latest version, its preview and transfer score (one query for a page of cards); absent when it has none. */
  async latestCovers(items: Lora[]): Promise<Map<string, { preview: string | null; transfer: TransferScore | null }>> {
    const latest = items.filter((l) => l.latest_version !== null);
    if (latest.length === 0) return new Map();
    const rows = await this.db
      .select({ loraId: loraVersions.loraId, preview: loraVersions.previewSha256, fidelity: loraVersions.transferFidelity, n: loraVersions.transferSamples })
      .from(loraVersions)
      .where(or(...latest.map((l) => and(eq(loraVersions.loraId, l.id), eq(loraVersions.version, l.latest_version!)))));
    return new Map(rows.map((r) => [r.loraId, { preview: r.preview, transfer: transferScore(r.fidelity, r.n) }]));
  }

  /** A page of a LoRA's versions, newest first. */
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
    if (!row) throw new RegistryError("not_found", `'${owner}/${name}' has no version ${version}`);
    return { lora, row, version: toVersion(row, lora) };
  }

  /** Counts one full download of a version's file. */
  async countDownload(lora: Pick<LoraRow, "id" | "owner" | "name">, versionId: string) {
    const { id: loraId, owner, name } = lora;
    await this.db
      .update(loras)
      .set({ downloads: sql`${loras.downloads} + 1` })
      .where(eq(loras.id, loraId));
    await this.db
      .update(loraVersions)
      .set({ downloads: sql`${loraVersions.downloads} + 1` })
      .where(eq(loraVersions.id, versionId));
    // Only this LoRA's row: sorted pages may show a count up to one TTL old, which a count can afford.
    this.rows.delete(`${owner}/${name}`);
  }
}
