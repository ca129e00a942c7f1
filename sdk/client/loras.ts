import type * as z from "zod";
import { Lora, type LoraCreate, type LoraListQuery, type LoraUpdate, LoraVersion, Page, type VersionCreate } from "../schema/index.ts";
import { verified } from "./blobs.ts";
import type { Http } from "./http.ts";
import { paginate } from "./pagination.ts";
import { loraPath, parseRef } from "./refs.ts";

type ListQuery = Partial<z.input<typeof LoraListQuery>>;
type Opts = { signal?: AbortSignal };

/** The catalog: LoRAs, each a named home for immutable versions. */
export class Loras {
  constructor(private readonly http: Http) {}

  /** Creates a LoRA under your owner (or `owner`, for admins). */
  create(body: z.input<typeof LoraCreate>, opts: Opts = {}): Promise<Lora> {
    return this.http.json({ method: "POST", path: "/v1/loras", json: body, signal: opts.signal }, Lora);
  }

  /** One LoRA by `owner/name`. */
  async get(ref: string, opts: Opts = {}): Promise<Lora> {
    return this.http.json({ method: "GET", path: loraPath(parseRef(ref)), signal: opts.signal }, Lora);
  }

  async update(ref: string, patch: z.input<typeof LoraUpdate>, opts: Opts = {}): Promise<Lora> {
    return this.http.json({ method: "PATCH", path: loraPath(parseRef(ref)), json: patch, signal: opts.signal }, Lora);
  }

  /** Soft-deletes a LoRA; its versions stop being listed. */
  async delete(ref: string, opts: Opts = {}): Promise<void> {
    await this.http.response({ method: "DELETE", path: loraPath(parseRef(ref)), signal: opts.signal });
  }

  /** One page of the search. */
  page(query: ListQuery = {}, opts: Opts = {}): Promise<Page<Lora>> {
    return this.http.json({ method: "GET", path: "/v1/loras", query: query as Record<string, string>, signal: opts.signal }, Page(Lora));
  }

  /** Every LoRA matching `query`, page by page: `for await (const lora of client.loras.list({ q }))`. */
  list(query: ListQuery = {}, opts: Opts = {}): AsyncGenerator<Lora> {
    return paginate((cursor) => this.page({ ...query, cursor }, opts));
  }
}

/** Versions of a LoRA: published from uploaded safetensors files, immutable. */
export class Versions {
  constructor(private readonly http: Http) {}

  /**
   * Publishes a version of `owner/name` from an uploaded LoRA file. The idempotency key (generated
   * when not given) makes a retry whose first answer was lost return the same version.
   */
  async create(ref: string, body: z.input<typeof VersionCreate>, opts: Opts & { idempotencyKey?: string } = {}): Promise<LoraVersion> {
    const key = opts.idempotencyKey ?? crypto.randomUUID();
    const path = `${loraPath(parseRef(ref))}/versions`;
    return this.http.json({ method: "POST", path, json: body, headers: { "idempotency-key": key }, signal: opts.signal }, LoraVersion);
  }

  /** `owner/name@3`, or the latest version for `owner/name`. */
  async get(ref: string, opts: Opts = {}): Promise<LoraVersion> {
    const r = parseRef(ref);
    return this.http.json({ method: "GET", path: `${loraPath(r)}/versions/${r.version}`, signal: opts.signal }, LoraVersion);
  }

  /** Every version of `owner/name`, newest first. */
  async *list(ref: string, opts: Opts = {}): AsyncGenerator<LoraVersion> {
    const path = `${loraPath(parseRef(ref))}/versions`;
    yield* paginate((cursor) => this.http.json({ method: "GET", path, query: { cursor, limit: 100 }, signal: opts.signal }, Page(LoraVersion)));
  }

  /** The version's safetensors file, verified against its sha256, with the version it came from. */
  async download(ref: string, opts: Opts = {}): Promise<{ version: LoraVersion; bytes: Uint8Array }> {
    const version = await this.get(ref, opts);
    const res = await this.http.response({
      method: "GET",
      path: `${loraPath(version)}/versions/${version.version}/file`,
      headers: { accept: "*/*" },
      signal: opts.signal,
    });
    return { version, bytes: await verified(res, version.file_sha256) };
  }
}
