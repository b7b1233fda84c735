/**
 * A Map that keeps at most `capacity` entries, least recently used out first (a `get` or `set`
 * makes an entry the most recent). The caches of the hot path (compiled operations, verified
 * tokens, prepared statement names, cost estimates, persisted queries) are bounded with it, so no
 * client can grow one without limit.
 */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();
  /** The most recent key, which a `get` leaves where it is: a client polling one document asks
   * every cache for the same keys, and moving an entry costs the Map a delete and an insert. */
  private newest: K | undefined;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  get(key: K): V | undefined {
    if (!this.entries.has(key)) return undefined;
    const value = this.entries.get(key) as V;
    if (key !== this.newest) {
      this.entries.delete(key);
      this.entries.set(key, value);
      this.newest = key;
    }
    return value;
  }

  /** Sets `key` as the most recent entry; returns the keys that fell out to make room. */
  set(key: K, value: V): K[] {
    this.entries.delete(key);
    this.entries.set(key, value);
    this.newest = key;
    const evicted: K[] = [];
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
      evicted.push(oldest);
    }
    return evicted;
  }

  delete(key: K): boolean {
    if (key === this.newest) this.newest = undefined;
    return this.entries.delete(key);
  }
}
