/**
 * A small read-through cache for rows that rarely change (an MNO and its API key hash, a profile type
 * and its template): a hit costs no SQL. Entries live `ttlMs` at most, so a change another instance
 * made is seen within that time; the process that makes a change calls `invalidate` and sees it at once.
 * Only found values are kept (a row created meanwhile is found on the next read). Bounded: the oldest go first.
 */
export interface TtlCacheOptions {
  /** How long an entry is served. 0 disables the cache (every read loads). */
  ttlMs: number;
  /** Most entries kept. Default 10 000. */
  maxEntries?: number;
  now?: () => number;
}

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private readonly now: () => number;

  constructor(private readonly options: TtlCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The cached value of `key`, else `load()`'s (kept when it is neither null nor undefined). */
  async get(key: string, load: () => Promise<V | null | undefined>): Promise<V | undefined> {
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    if (hit) this.entries.delete(key);
    const value = (await load()) ?? undefined;
    if (value !== undefined && this.options.ttlMs > 0) {
      this.entries.set(key, { value, expiresAt: now + this.options.ttlMs });
      for (const oldest of this.entries.keys()) {
        if (this.entries.size <= (this.options.maxEntries ?? 10_000)) break;
        this.entries.delete(oldest);
      }
    }
    return value;
  }

  invalidate(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
