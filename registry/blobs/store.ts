import { RegistryError } from "../http/errors.ts";

/**
 * Where blob bytes live. The app streams through this interface and never touches a file system,
 * so the local-directory store (Node) and an R2 store (Workers) are interchangeable.
 */
export interface BlobStore {
  /**
   * Streams `body` to temporary storage while hashing it, then makes it visible under `sha256`
   * only if the digest and size match and `inspect` (if given) accepts the bytes. Bytes already
   * stored get the same checks and the same writes (the verified copy replaces the identical one),
   * so neither the result nor the time taken tells whether they were there.
   * Throws `BlobWriteError` on a limit or mismatch, and what `inspect` throws on a rejection; nothing partial stays visible.
   */
  put(sha256: string, body: ReadableStream<Uint8Array>, opts: PutOptions): Promise<{ size: number }>;
  /** Size in bytes, or null if absent. */
  stat(sha256: string): Promise<number | null>;
  /** The bytes `[start, end)` (whole blob by default), or null if absent. */
  read(sha256: string, range?: { start: number; end: number }): Promise<ReadableStream<Uint8Array> | null>;
  /** Small reads (headers) into memory. */
  readBytes(sha256: string, start: number, end: number): Promise<Uint8Array>;
  delete(sha256: string): Promise<void>;
  /** Every stored blob and leftover temporary, with its age, for garbage collection. */
  list(): AsyncIterable<{ sha256: string | null; key: string; modifiedAt: number }>;
  deleteKey(key: string): Promise<void>;
}

export interface PutOptions {
  maxBytes: number;
  /** Declared size; a body of another length is rejected. */
  expectedSize?: number;
  /** Looks at the complete, hash-verified bytes before they are committed; throw to reject. */
  inspect?: (read: (start: number, end: number) => Promise<Uint8Array>, size: number) => Promise<void>;
}

/**
 * An upload the store refused. Each reason is the uploader's to fix and the message is written for
 * it, so this is a RegistryError that reaches the client as is (through `BlobService.upload`).
 */
export class BlobWriteError extends RegistryError {
  override name = "BlobWriteError";
  constructor(code: "payload_too_large" | "sha256_mismatch" | "size_mismatch", message: string) {
    super(code, message);
  }
}
