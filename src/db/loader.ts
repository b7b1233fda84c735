import DataLoader from 'dataloader';
import { recordBatch } from './sql-counter';

/**
 * A named DataLoader whose batches are counted, by name, in the request's metrics
 * (`hub_dataloader_batch_size{loader}`). Values primed by a list (rows it read anyway) are kept as
 * they are: `get` hands them to a field resolver synchronously, without a promise and a batch
 * dispatch per field (a dashboard primes a few hundred per request); `load` serves them as a
 * DataLoader always did. A primed value never replaces one already cached, as with DataLoader.
 */
export class Loader<K, V, C = K> extends DataLoader<K, V, C> {
  private readonly primed = new Map<C, V>();
  /** Values a list read cut to what its selection asks for, with the properties they hold. */
  private readonly cuts = new Map<C, { value: V; properties: readonly string[] }>();
  private readonly promises: Map<C, Promise<V>>;
  private readonly keyOf: (key: K) => C;

  constructor(name: string, batch: DataLoader.BatchLoadFn<K, V>, options: DataLoader.Options<K, V, C> = {}) {
    const promises = new Map<C, Promise<V>>();
    super((keys) => {
      recordBatch(name, keys.length);
      return batch(keys);
    }, { ...options, name, cacheMap: promises });
    this.promises = promises;
    // Without cacheKeyFn, DataLoader caches by the key itself: C is K (its own default), which
    // TypeScript cannot see through the optional generic.
    this.keyOf = options.cacheKeyFn ?? ((key: K) => key as unknown as C);
  }

  /** The value for `key`: as it is when a list primed it, else loaded. */
  get(key: K): V | Promise<V> {
    const cacheKey = this.keyOf(key);
    return this.primed.has(cacheKey) ? this.primed.get(cacheKey)! : this.load(key);
  }

  /**
   * Primes `key` with a value cut to `properties` (a list that read only what its selection asks
   * for, see `propertiesRead`): `get` and `load` never hand it out, as they promise whole values;
   * `getFor` does, to a selection reading no more than it holds.
   */
  primeCut(key: K, value: V, properties: readonly string[]): this {
    const cacheKey = this.keyOf(key);
    if (!this.cuts.has(cacheKey)) this.cuts.set(cacheKey, { value, properties });
    return this;
  }

  /** `prime` when `properties` is null (a whole value), else `primeCut`. */
  primeAs(key: K, value: V, properties: readonly string[] | null): this {
    return properties ? this.primeCut(key, value, properties) : this.prime(key, value);
  }

  /**
   * The value for `key` for a selection reading `properties` of it (null: the whole value): the
   * whole one when the request holds it (a write primed it, or a selection read it whole), else
   * one primed cut with every property asked for, else the whole one loaded (`get`).
   */
  getFor(key: K, properties: readonly string[] | null): V | Promise<V> {
    const cacheKey = this.keyOf(key);
    if (properties && !this.primed.has(cacheKey) && this.promises.get(cacheKey) === undefined) {
      const cut = this.cuts.get(cacheKey);
      if (cut && properties.every((property) => cut.properties.includes(property))) return cut.value;
    }
    return this.get(key);
  }

  override load(key: K): Promise<V> {
    const cacheKey = this.keyOf(key);
    return this.primed.has(cacheKey) ? Promise.resolve(this.primed.get(cacheKey)!) : super.load(key);
  }

  override prime(key: K, value: V | PromiseLike<V> | Error): this {
    if (value instanceof Error || typeof (value as PromiseLike<V> | null)?.then === 'function') return super.prime(key, value);
    const cacheKey = this.keyOf(key);
    if (!this.primed.has(cacheKey) && this.promises.get(cacheKey) === undefined) this.primed.set(cacheKey, value as V);
    return this;
  }

  override clear(key: K): this {
    this.primed.delete(this.keyOf(key));
    this.cuts.delete(this.keyOf(key));
    return super.clear(key);
  }

  override clearAll(): this {
    this.primed.clear();
    this.cuts.clear();
    return super.clearAll();
  }
}

export function loader<K, V, C = K>(
  name: string,
  batch: DataLoader.BatchLoadFn<K, V>,
  options?: DataLoader.Options<K, V, C>,
): Loader<K, V, C> {
  return new Loader<K, V, C>(name, batch, options);
}
