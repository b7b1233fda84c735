import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, EntityManager, QueryFailedError, QueryRunner } from 'typeorm';
import { Logger } from '../logger';
import { AudioStorage } from '../storage/audio-storage';
import { transactionDepth } from './typeorm-internals';

/**
 * What a write needs besides its input, passed by every caller: the database, the audio store
 * its after-commit work removes objects from, and the server's logger for that work's failures.
 */
export interface WriteDeps {
  dataSource: DataSource;
  storage: AudioStorage;
  logger: Logger;
}

/** Work to do once the write has committed, never after a rollback: given the write's deps. */
export type AfterCommit = (deps: WriteDeps) => Promise<void>;

interface Pending {
  /** Transaction depth when registered: a rollback to a savepoint below it drops the work. */
  depth: number;
  run: AfterCommit;
}

/** Each write transaction's own after-commit list, keyed by its query runner (it dies with it). */
const pendingByRunner = new WeakMap<QueryRunner, Pending[]>();
const pendingOf = (queryRunner: QueryRunner | undefined) => (queryRunner ? pendingByRunner.get(queryRunner) : undefined);

/**
 * Runs `fn` once the write transaction `manager` belongs to has committed (before
 * `writeTransaction` returns), and never if it, or the savepoint `fn` was registered in, rolls
 * back. Outside `writeTransaction` it throws, rolling the write back, rather than lose the work.
 */
export function afterCommit(manager: EntityManager, fn: AfterCommit): void {
  const list = pendingOf(manager.queryRunner);
  if (!list) throw new Error('after-commit work needs a write transaction: run the write through writeTransaction()');
  list.push({ depth: transactionDepth(manager.queryRunner!), run: fn });
}

/** After a rollback (to a savepoint or entirely): forgets the work the rolled-back part registered. */
export function forgetRolledBack(queryRunner: QueryRunner): void {
  const list = pendingOf(queryRunner);
  if (!list) return;
  const depth = transactionDepth(queryRunner);
  const kept = list.filter((p) => p.depth <= depth);
  list.splice(0, list.length, ...kept);
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
 * the work registered with `afterCommit` runs once it has committed (audio objects of purged
 * messages are removed from the store only then), in order, before this returns.
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
        pendingByRunner.set(runner, []);
        return fn(manager);
      });
    } catch (error) {
      if (!isRetryable(error) || attempt >= WRITE_ATTEMPTS) throw error;
      const code = String(((error as QueryFailedError).driverError as { code?: string }).code);
      retriedWrites[code] = (retriedWrites[code] ?? 0) + 1;
      await sleep(Math.random() * BACKOFF_BASE_MS * 2 ** (attempt - 1));
      continue;
    }
    const pending = pendingOf(runner) ?? [];
    pendingByRunner.delete(runner!);
    for (const work of pending) await work.run(deps);
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
