import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, EntityManager, QueryFailedError, QueryRunner } from 'typeorm';

/**
 * What a write needs besides its input: the database, and what the features' after-commit hooks
 * read. A feature adds its part by declaration merging (src/storage/audio-cleanup.ts adds the
 * audio store that purges remove objects from), so every caller must pass it while src/db names
 * no feature.
 */
export interface WriteDeps {
  dataSource: DataSource;
}

/** Work a feature does once a write transaction has committed, never after a rollback: given the
 * transaction's query runner (what the feature recorded on it) and the write's deps. */
export type AfterCommitHook = (queryRunner: QueryRunner, deps: WriteDeps) => Promise<void>;

const afterCommitHooks: AfterCommitHook[] = [];
const writeRunners = new WeakSet<QueryRunner>();

/** Registers an after-commit hook for every write transaction (a feature does it once, at import). */
export function onWriteCommitted(hook: AfterCommitHook): void {
  afterCommitHooks.push(hook);
}

/** Whether a query runner is running a `writeTransaction`, whose after-commit hooks will run. */
export function inWriteTransaction(queryRunner: QueryRunner): boolean {
  return writeRunners.has(queryRunner);
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
 * the after-commit hooks run once it has committed (audio objects of purged messages are removed
 * from the store only then), before this returns.
 *
 * A deadlock or serialization failure rolls the whole transaction back, and the whole of `fn`
 * runs again in a new one (up to WRITE_ATTEMPTS, with jittered backoff so the losers do not
 * collide again in step). An attempt leaves nothing behind: its rows, held entities and
 * after-commit lists belong to its own query runner and are dropped with it, and `fn` must
 * keep its effects inside the transaction (callers prime loaders only after this returns).
 */
export async function writeTransaction<T>(deps: WriteDeps, fn: (manager: EntityManager) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    let runner: QueryRunner | undefined;
    let result: T;
    try {
      result = await deps.dataSource.transaction((manager) => {
        runner = manager.queryRunner!;
        writeRunners.add(runner);
        return fn(manager);
      });
    } catch (error) {
      if (!isRetryable(error) || attempt >= WRITE_ATTEMPTS) throw error;
      const code = String(((error as QueryFailedError).driverError as { code?: string }).code);
      retriedWrites[code] = (retriedWrites[code] ?? 0) + 1;
      await sleep(Math.random() * BACKOFF_BASE_MS * 2 ** (attempt - 1));
      continue;
    }
    for (const hook of afterCommitHooks) await hook(runner!, deps);
    return result;
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
