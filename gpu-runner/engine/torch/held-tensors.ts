import type { Tensors } from "./protocol.ts";

// Inputs at least this many elements are worth caching in the torch process (below, sending is cheaper than hashing).
const CACHE_MIN = 4_096;

/** A fast 32-bit checksum of a tensor's bytes: tells a held tensor from one changed in place. */
function checksum(a: Float32Array | BigInt64Array): number {
  const words = new Int32Array(a.buffer, a.byteOffset, a.byteLength >> 2);
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * The tensors the torch process holds (by this array object and its checksum), so they are sent once:
 * large inputs that are the same array with the same contents as an earlier call (the frozen LoRA,
 * the text embedding, the LoRA slots of a generation) stay on the GPU and are not re-sent.
 */
export class HeldTensors {
  private held = new WeakMap<Float32Array | BigInt64Array, { key: string; sum: number }>();

  /** Forgets every held tensor (a new torch process, or one that dropped some): they are sent in full again. */
  forget() {
    this.held = new WeakMap();
  }

  /**
   * What a request sends: `send` the tensors travelling, `store` those the torch process keeps under a key,
   * `cached` those it already holds. `fresh` names inputs that change every call; `newKey` makes keys.
   */
  split(tensors: Tensors, fresh: Set<string>, newKey: () => string) {
    const send: Tensors = {};
    const store: Record<string, string> = {};
    const cached: Record<string, string> = {};
    for (const [name, t] of Object.entries(tensors)) {
      if (t.data.length < CACHE_MIN || fresh.has(name)) {
        send[name] = t;
        continue;
      }
      const sum = checksum(t.data);
      const held = this.held.get(t.data);
      if (held && held.sum === sum) cached[name] = held.key;
      else {
        const key = newKey();
        this.held.set(t.data, { key, sum });
        store[name] = key;
        send[name] = t;
      }
    }
    return { send, store, cached };
  }
}
