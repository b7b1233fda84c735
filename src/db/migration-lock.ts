import { DataSource } from 'typeorm';

/** One fixed advisory-lock key for "this database's schema is being migrated" (any 64-bit number;
 * this one is the first 8 bytes of sha256("hub-session-graph:migrations")). */
const MIGRATION_LOCK_KEY = '-4124609600251686057';

/**
 * Runs `fn` (migrating or reverting) while holding a PostgreSQL session advisory lock, so
 * concurrent `hub migrate` / `hub serve` starts on one database migrate once: the first runs the
 * migrations, the others wait on the lock and then find nothing pending. TypeORM takes no lock
 * itself (two concurrent runs both tried to create the same tables). The lock lives on one
 * dedicated connection with no statement timeout, since waiting for another migration is
 * expected; it is released by the connection if this process dies.
 */
export async function withMigrationLock<T>(dataSource: DataSource, fn: () => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SET statement_timeout = 0');
    await runner.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      return await fn();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
      await runner.query('RESET statement_timeout').catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}
