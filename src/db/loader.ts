import DataLoader from 'dataloader';
import { recordBatch } from './sql-counter';

/**
 * A named DataLoader whose batches are counted, by name, in the request's metrics
 * (`hub_dataloader_batch_size{loader}`). Values primed by a list (rows it read anyway) are kept as
 * they are: `get` hands them to a field resolver synchronously, without a promise and a batch
 * dispatch per field (a dashboard primes a few hundred per request); `load` serves them as a
 * DataLoader always did. A primed value never replaces one already cached, as with DataLoader.
 *
 * A request makes every feature's loaders and uses a few: the DataLoader and the maps behind one
 * are made when it is first used, so an unused loader costs one small object (about a sixth of
 * what a trivial request allocated went to unused loaders).
 */
export class Loader<K, V, C = K> {
  private primedValues?: Map<C, V>;
  /** Values a list read cut to what its selection asks for, with the properties they hold. */
  private cutValues?: Map<C, { value: V; properties: readonly string[] }>;
  private promises?: Map<C, Promise<V>>;
  private loaderOf?: DataLoader<K, V, C>;
  private readonly keyOf: (key: K) => C;

  constructor(
    private readonly name: string,
    private readonly batch: DataLoader.BatchLoadFn<K, V>,
    private readonly options: DataLoader.Options<K, V, C> = {},
  ) {
    // Without cacheKeyFn, DataLoader caches by the key itself: C is K (its own default), which
    // TypeScript cannot see through the optional generic.
    this.keyOf = options.cacheKeyFn ?? ((key: K) => key as unknown as C);
  }

  private get primed(): Map<C, V> {
    return (this.primedValues ??= new Map());
  }

  private get cuts(): Map<C, { value: V; properties: readonly string[] }> {
    return (this.cutValues ??= new Map());
  }

  private get dataLoader(): DataLoader<K, V, C> {
    if (!this.loaderOf) {
      const { name, batch } = this;
      this.promises = new Map();
      this.loaderOf = new DataLoader<K, V, C>((keys) => {
        recordBatch(name, keys.length);
        return batch(keys);
      }, { ...this.options, name, cacheMap: this.promises });
    }
    return this.loaderOf;
  }

  private cached(cacheKey: C): boolean {
    return this.promises?.get(cacheKey) !== undefined;
  }

  /** The value for `key`: as it is when a list primed it, else loaded. */
  get(key: K): V | Promise<V> {
    const cacheKey = this.keyOf(key);
    return this.primedValues?.has(cacheKey) ? this.primedValues.get(cacheKey)! : this.dataLoader.load(key);
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
    if (properties && !this.primedValues?.has(cacheKey) && !this.cached(cacheKey)) {
      const cut = this.cutValues?.get(cacheKey);
      if (cut && properties.every((property) => cut.properties.includes(property))) return cut.value;
    }
    return this.get(key);
  }

  load(key: K): Promise<V> {
    const cacheKey = this.keyOf(key);
    return this.primedValues?.has(cacheKey) ? Promise.resolve(this.primedValues.get(cacheKey)!) : this.dataLoader.load(key);
  }

  prime(key: K, value: V | PromiseLike<V> | Error): this {
    if (value instanceof Error || typeof (value as PromiseLike<V> | null)?.then === 'function') {
      this.dataLoader.prime(key, value as V | PromiseLike<V> | Error);
      return this;
    }
    const cacheKey = this.keyOf(key);
    if (!this.primed.has(cacheKey) && !this.cached(cacheKey)) this.primed.set(cacheKey, value as V);
    return this;
  }

  clear(key: K): this {
    const cacheKey = this.keyOf(key);
    this.primedValues?.delete(cacheKey);
    this.cutValues?.delete(cacheKey);
    this.loaderOf?.clear(key);
    return this;
  }

  clearAll(): this {
    this.primedValues?.clear();
    this.cutValues?.clear();
    this.loaderOf?.clearAll();
    return this;
  }
}

export function loader<K, V, C = K>(
  name: string,
  batch: DataLoader.BatchLoadFn<K, V>,
  options?: DataLoader.Options<K, V, C>,
): Loader<K, V, C> {
  return new Loader<K, V, C>(name, batch, options);
}
