import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';

/** One fixed advisory-lock key for "this database's schema is being migrated" (any 64-bit number;
 * this one is the first 8 bytes of sha256("hub-session-graph:migrations")). */
const MIGRATION_LOCK_KEY = '-4124609600251686057';

/** How often a process waiting for another's migrations tries the lock again. */
const LOCK_RETRY_MS = 200;

/**
 * Runs `fn` (migrating or reverting) while holding a PostgreSQL session advisory lock, so
 * concurrent `hub migrate` / `hub serve` starts on one database migrate once: the first runs the
 * migrations, the others wait for the lock and then find nothing pending. TypeORM takes no lock
 * itself (two concurrent runs both tried to create the same tables). The lock lives on one
 * dedicated connection (a session: give it HUB_DIRECT_DATABASE_URL, never a transaction pooler)
 * and is released by the connection if this process dies.
 *
 * A waiter tries the lock again and again (`pg_try_advisory_lock`) rather than blocking in
 * `pg_advisory_lock`: a blocked statement holds a snapshot for as long as it waits, and
 * `CREATE INDEX CONCURRENTLY` in the holder's migrations waits for every older snapshot, so
 * the two processes waited for each other forever (found by test/pooler's two-migrate test).
 */
export async function withMigrationLock<T>(dataSource: DataSource, fn: () => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    while (!(await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [MIGRATION_LOCK_KEY]))[0].locked) {
      await sleep(LOCK_RETRY_MS);
    }
    try {
      return await fn();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}
