import DataLoader from 'dataloader';
import { recordBatch } from './sql-counter';

/** A DataLoader whose batches are counted, by name, in the request's metrics
 * (`hub_dataloader_batch_size{loader}`). */
export function loader<K, V, C = K>(
  name: string,
  batch: DataLoader.BatchLoadFn<K, V>,
  options?: DataLoader.Options<K, V, C>,
): DataLoader<K, V, C> {
  return new DataLoader<K, V, C>((keys) => {
    recordBatch(name, keys.length);
    return batch(keys);
  }, options);
}
