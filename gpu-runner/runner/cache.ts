import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Blobs } from "../../sdk/client/blobs.ts";
import { sha256Hex } from "../../sdk/client/digest.ts";

/** Job inputs on local disk by sha256: a LoRA or clip used by many jobs is downloaded once. */
export class BlobCache {
  private readonly inflight = new Map<string, Promise<Uint8Array>>();

  constructor(
    private readonly dir: string,
    private readonly blobs: Blobs,
  ) {}

  /** The bytes of `sha256`, from disk when cached (re-verified: disks rot) or downloaded and verified. */
  get(sha256: string, signal?: AbortSignal): Promise<Uint8Array> {
    let p = this.inflight.get(sha256);
    if (!p) {
      p = this.load(sha256, signal).finally(() => this.inflight.delete(sha256));
      this.inflight.set(sha256, p);
    }
    return p;
  }

  private async load(sha256: string, signal?: AbortSignal): Promise<Uint8Array> {
    const path = join(this.dir, sha256);
    const cached = await readFile(path).then(
      (b) => new Uint8Array(b),
      () => null,
    );
    if (cached && (await sha256Hex(cached)) === sha256) return cached;
    const bytes = await this.blobs.download(sha256, signal ? { signal } : {});
    await mkdir(this.dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, path);
    return bytes;
  }
}
