import type { R2Bucket, R2UploadedPart } from "@cloudflare/workers-types/latest/index.ts";
import { BlobWriteError, type BlobStore, type PutOptions } from "./store.ts";

const MiB = 1024 * 1024;
const SHA = /^[0-9a-f]{64}$/;

/** An incremental SHA-256: `crypto.DigestStream` on Workers, node:crypto on Node. */
export interface StreamingHash {
  update(chunk: Uint8Array): void;
  hex(): Promise<string>;
}

export interface R2StoreOptions {
  /** A fresh incremental SHA-256 per upload. */
  hash: () => StreamingHash;
  /** Blobs up to this size are held in memory and stored with one checksummed put; larger ones go up in parts. */
  singlePutBytes?: number;
  /** R2 wants every part but the last the same size, at least 5 MiB. */
  partBytes?: number;
  /** How much of a large upload's head `inspect` may read (safetensors headers are ≤ 96 KiB + 8). */
  inspectBytes?: number;
}

/**
 * Blobs in an R2 bucket under `blobs/<sha256>`. R2 has no rename, so nothing is written under a
 * temporary name: a small upload is stored only after its digest and inspection pass (and R2
 * checks the sha256 again), a large one streams up as a multipart upload that is completed only
 * then, and aborted otherwise, so a bad upload of a known hash cannot damage the good copy. Bytes
 * already stored are written again like new ones (verified, identical): the same requests and
 * time whether or not they were there, so an upload's timing does not tell.
 */
export class R2BlobStore implements BlobStore {
  private readonly singlePut: number;
  private readonly part: number;
  private readonly inspectBytes: number;

  constructor(
    private readonly bucket: R2Bucket,
    private readonly opts: R2StoreOptions,
  ) {
    this.singlePut = opts.singlePutBytes ?? 16 * MiB;
    this.part = opts.partBytes ?? 8 * MiB;
    this.inspectBytes = opts.inspectBytes ?? MiB;
    if (this.part < 5 * MiB || this.singlePut < this.inspectBytes) throw new Error("R2BlobStore: parts must be ≥ 5 MiB and single puts ≥ inspectBytes");
  }

  private key(sha256: string): string {
    if (!SHA.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return `blobs/${sha256}`;
  }

  async put(sha256: string, body: ReadableStream<Uint8Array>, opts: PutOptions) {
    const key = this.key(sha256);
    const hash = this.opts.hash();
    let size = 0;
    // Whole body while it fits a single put; afterwards only the head, for `inspect`.
    let held: Uint8Array[] = [];
    let heldBytes = 0;
    let head: Uint8Array | null = null;
    let multipart: Awaited<ReturnType<R2Bucket["createMultipartUpload"]>> | null = null;
    const parts: R2UploadedPart[] = [];
    // Chunks not yet sent, joined only when a whole part is there (joining per chunk is quadratic).
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const sendParts = async (final: boolean) => {
      if (pendingBytes < this.part && !(final && pendingBytes > 0)) return;
      let rest = concat(pending);
      while (rest.byteLength >= this.part || (final && rest.byteLength > 0)) {
        const n = Math.min(this.part, rest.byteLength);
        parts.push(await multipart!.uploadPart(parts.length + 1, rest.slice(0, n)));
        rest = rest.subarray(n);
      }
      pending = rest.byteLength ? [rest] : [];
      pendingBytes = rest.byteLength;
    };
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > opts.maxBytes) throw new BlobWriteError("payload_too_large", `upload exceeds the ${opts.maxBytes}-byte limit for this kind`);
        if (opts.expectedSize !== undefined && size > opts.expectedSize) {
          throw new BlobWriteError("size_mismatch", `upload is longer than its declared ${opts.expectedSize} bytes`);
        }
        hash.update(value);
        if (head === null && heldBytes + value.byteLength <= this.singlePut) {
          held.push(value);
          heldBytes += value.byteLength;
          continue;
        }
        if (head === null) {
          // Too large for one put: keep the head for `inspect`, and send parts.
          head = concat([...held, value]).slice(0, this.inspectBytes);
          multipart = await this.bucket.createMultipartUpload(key);
          pending = [...held, value];
          pendingBytes = heldBytes + value.byteLength;
          held = [];
          heldBytes = 0;
        } else {
          pending.push(value);
          pendingBytes += value.byteLength;
        }
        await sendParts(false);
      }
      if (opts.expectedSize !== undefined && size !== opts.expectedSize) {
        throw new BlobWriteError("size_mismatch", `upload is ${size} bytes but ${opts.expectedSize} were declared`);
      }
      const digest = await hash.hex();
      if (digest !== sha256) throw new BlobWriteError("sha256_mismatch", `uploaded bytes hash to ${digest}, not the declared ${sha256}`);
      const whole = head === null ? concat(held) : null;
      if (opts.inspect) {
        const bytes = whole ?? head!;
        await opts.inspect(async (s, e) => {
          if (e > bytes.byteLength && e <= size) throw new Error(`inspect may read the first ${bytes.byteLength} bytes of a large upload, not up to ${e}`);
          return bytes.subarray(s, Math.min(e, bytes.byteLength));
        }, size);
      }
      if (whole) {
        await this.bucket.put(key, whole, { sha256 });
      } else {
        await sendParts(true);
        await multipart!.complete(parts);
        multipart = null;
      }
      return { size };
    } catch (e) {
      await reader.cancel().catch(() => {});
      throw e;
    } finally {
      if (multipart) await multipart.abort().catch(() => {});
    }
  }

  async stat(sha256: string): Promise<number | null> {
    return (await this.bucket.head(this.key(sha256)))?.size ?? null;
  }

  async read(sha256: string, range?: { start: number; end: number }): Promise<ReadableStream<Uint8Array> | null> {
    if (range && range.end <= range.start) return new Blob([]).stream();
    const obj = await this.bucket.get(this.key(sha256), range ? { range: { offset: range.start, length: range.end - range.start } } : {});
    return (obj?.body as ReadableStream<Uint8Array> | undefined) ?? null;
  }

  async readBytes(sha256: string, start: number, end: number): Promise<Uint8Array> {
    const obj = await this.bucket.get(this.key(sha256), { range: { offset: start, length: end - start } });
    if (!obj) throw new Error(`blob ${sha256} is missing`);
    return new Uint8Array(await obj.arrayBuffer());
  }

  async delete(sha256: string): Promise<void> {
    await this.bucket.delete(this.key(sha256));
  }

  async *list(): AsyncIterable<{ sha256: string | null; key: string; modifiedAt: number }> {
    let cursor: string | undefined;
    do {
      const page = await this.bucket.list({ prefix: "blobs/", ...(cursor ? { cursor } : {}) });
      for (const o of page.objects) {
        const sha = o.key.slice("blobs/".length);
        yield { sha256: SHA.test(sha) ? sha : null, key: o.key, modifiedAt: o.uploaded.getTime() };
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }

  async deleteKey(key: string): Promise<void> {
    await this.bucket.delete(key);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
