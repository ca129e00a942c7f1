/**
 * A bounded read-through cache for hot catalog reads (a LoRA by slug, a search page).
 * Writes made through this process clear it; the short TTL bounds how stale a read can be after a
 * write made by another instance. Measured: a cached LoRA GET serves ~4× the requests/s (bench/).
 */
export class ReadCache<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  async get(key: string, load: () => Promise<V>, now = Date.now()): Promise<V> {
    if (this.ttlMs > 0) {
      const hit = this.entries.get(key);
      if (hit && now - hit.at < this.ttlMs) return hit.value;
    }
    const value = await load();
    if (this.ttlMs > 0) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { value, at: now });
    }
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
