import { BlobInfo, type BlobKind } from "../schema/index.ts";
import { sha256Hex } from "./digest.ts";
import { IntegrityError, NotFoundError } from "./errors.ts";
import type { Http } from "./http.ts";

export type Bytes = Uint8Array | Blob;

/** Content-addressed blobs: uploads hashed client-side, downloads verified before they are returned. */
export class Blobs {
  constructor(private readonly http: Http) {}

  /** Uploads bytes under their sha256; stored bytes are not sent again. */
  async upload(data: Bytes, kind: BlobKind, opts: { signal?: AbortSignal } = {}): Promise<BlobInfo> {
    const sha256 = await sha256Hex(data);
    const known = await this.info(sha256, opts).catch((e: unknown) => {
      if (e instanceof NotFoundError) return null;
      throw e;
    });
    if (known && known.kind === kind) return { ...known, created: false };
    return this.http.json({ method: "PUT", path: `/v1/blobs/${sha256}`, query: { kind }, body: data, signal: opts.signal }, BlobInfo);
  }

  /** A blob's size, kind and content type. */
  info(sha256: string, opts: { signal?: AbortSignal } = {}): Promise<BlobInfo> {
    return this.http.json({ method: "GET", path: `/v1/blobs/${sha256}/info`, signal: opts.signal }, BlobInfo);
  }

  /** The blob's bytes, checked against `sha256`. */
  async download(sha256: string, opts: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const res = await this.http.response({ method: "GET", path: `/v1/blobs/${sha256}`, headers: { accept: "*/*" }, signal: opts.signal });
    return verified(res, sha256);
  }
}

/** Reads a download whole and refuses it unless its sha256 is the expected one. */
export async function verified(res: Response, sha256: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  const got = await sha256Hex(bytes);
  if (got !== sha256) throw new IntegrityError(`download of ${sha256} has sha256 ${got} (${bytes.length} bytes): corrupted in transit; retry`);
  return bytes;
}
