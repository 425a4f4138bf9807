// One bounded cache type for every per-replica cache: at most `maxEntries` (the oldest entry goes
// first) and, optionally, a time to live. Safe to lose: a miss only costs the caller a lookup.

/** A Map with a size bound and an optional TTL, oldest-inserted evicted first. */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAt: number }>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(o: { maxEntries: number; ttlMs?: number; now?: () => number }) {
    if (!(o.maxEntries >= 1)) throw new Error("BoundedCache: maxEntries must be at least 1.");
    this.#maxEntries = o.maxEntries;
    this.#ttlMs = o.ttlMs ?? Number.POSITIVE_INFINITY;
    this.#now = o.now ?? Date.now;
  }

  /** The value, unless absent or expired (an expired entry is dropped). */
  get(key: K): V | undefined {
    const hit = this.#entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  /** Stores a value, evicting the oldest entry when full. */
  set(key: K, value: V): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt: this.#now() + this.#ttlMs });
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
