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

  /** Whether the request already holds a value for `key` (primed, or loaded or loading). */
  has(key: K): boolean {
    const cacheKey = this.keyOf(key);
    return this.primed.has(cacheKey) || this.promises.has(cacheKey);
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
    return super.clear(key);
  }

  override clearAll(): this {
    this.primed.clear();
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
