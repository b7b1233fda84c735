import { DataSource, EntityManager } from 'typeorm';
import { bindAudioStorage } from '../storage/audio-cleanup';
import { AudioStorage } from '../storage/storage';

/** What a write needs besides its input: the database and the audio store (for purges). */
export interface WriteDeps {
  dataSource: DataSource;
  storage: AudioStorage;
}

/**
 * Runs one write in one transaction. The entity subscribers do their cascades on the same
 * transaction's manager, so a write and all its consequences commit or roll back together;
 * audio objects of purged messages are removed from the store only after the commit.
 */
export function writeTransaction<T>(deps: WriteDeps, fn: (manager: EntityManager) => Promise<T>): Promise<T> {
  return deps.dataSource.transaction((manager) => {
    bindAudioStorage(manager.queryRunner!, deps.storage);
    return fn(manager);
  });
}

/**
 * After a write: every cached value of the request's loaders may be stale (a new message changes
 * a session's message page, count and last message; a detach changes its skills…), and they are
 * per-request caches, so all are cleared rather than guessing which keys a cascade reached. The
 * caller then primes the by-id loaders with the rows it just wrote and returns.
 */
export function clearLoaders(loaders: object): void {
  for (const loader of Object.values(loaders)) {
    if (loader && typeof (loader as { clearAll?: unknown }).clearAll === 'function') (loader as { clearAll(): void }).clearAll();
  }
}
