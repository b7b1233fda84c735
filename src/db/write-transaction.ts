import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { bindAudioStorage } from '../storage/audio-cleanup';
import { AudioStorage } from '../storage/storage';

/** What a write needs besides its input: the database and the audio store (for purges). */
export interface WriteDeps {
  dataSource: DataSource;
  storage: AudioStorage;
}

/** Deadlock detected, serialization failure: PostgreSQL rolled the attempt back and a new one may pass. */
const RETRYABLE = new Set(['40P01', '40001']);
/** Attempts in all, and the backoff before each retry: random in [0, base · 2^(n-1)] ms (full jitter). */
export const WRITE_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 15;

export function isRetryable(error: unknown): boolean {
  return error instanceof QueryFailedError && RETRYABLE.has(String((error.driverError as { code?: string })?.code));
}

/** How many write transactions were retried, by SQLSTATE (read by tests and the metrics). */
export const retriedWrites: Record<string, number> = {};

/**
 * Runs one write in one transaction. The entity subscribers do their cascades on the same
 * transaction's manager, so a write and all its consequences commit or roll back together;
 * audio objects of purged messages are removed from the store only after the commit.
 *
 * A deadlock or serialization failure rolls the whole transaction back, and the whole of `fn`
 * runs again in a new one (up to WRITE_ATTEMPTS, with jittered backoff so the losers do not
 * collide again in step). An attempt leaves nothing behind: its rows, held entities and
 * after-commit lists belong to its own query runner and are dropped with it, and `fn` must
 * keep its effects inside the transaction (callers prime loaders only after this returns).
 */
export async function writeTransaction<T>(deps: WriteDeps, fn: (manager: EntityManager) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await deps.dataSource.transaction((manager) => {
        bindAudioStorage(manager.queryRunner!, deps.storage);
        return fn(manager);
      });
    } catch (error) {
      if (!isRetryable(error) || attempt >= WRITE_ATTEMPTS) throw error;
      const code = String(((error as QueryFailedError).driverError as { code?: string }).code);
      retriedWrites[code] = (retriedWrites[code] ?? 0) + 1;
      await sleep(Math.random() * BACKOFF_BASE_MS * 2 ** (attempt - 1));
    }
  }
}

/**
 * After a write: every cached value of the request's loaders may be stale (a new message changes
 * a session's message page, count and last message; a detach changes its skills…), and they are
 * per-request caches, so all are cleared rather than guessing which keys a cascade reached. The
 * caller then primes the by-id loaders with the rows its transaction wrote and returns.
 */
export function clearLoaders(loaders: object): void {
  for (const loader of Object.values(loaders)) {
    if (loader && typeof (loader as { clearAll?: unknown }).clearAll === 'function') (loader as { clearAll(): void }).clearAll();
  }
}
