import { QueryRunner } from 'typeorm';

// What the migrations that change a database in use share: they run while the API writes.

/** A DDL statement waits at most this long for its lock, then gives way and tries again. */
const LOCK_WAIT_MS = 1000;
const LOCK_ATTEMPTS = 300;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const codeOf = (error: unknown) => (error as { driverError?: { code?: string } }).driverError?.code;

/**
 * What a migration that changes a database in use runs with: no statement timeout (a large table
 * takes minutes) and room to build an index, both reset after `fn` whatever it did.
 */
export async function withBuildSettings(q: QueryRunner, fn: () => Promise<void>): Promise<void> {
  await q.query('SET statement_timeout = 0');
  await q.query(`SET maintenance_work_mem = '256MB'`);
  try {
    await fn();
  } finally {
    await q.query('RESET maintenance_work_mem');
    await q.query('RESET statement_timeout');
  }
}

/**
 * Index `name` on `table` (`using`: its method and columns), built CONCURRENTLY, so writes go on
 * meanwhile. An index of that name left invalid by an interrupted build is dropped and built
 * again; a valid one is kept, so a migration run again skips it.
 */
export async function indexConcurrently(q: QueryRunner, name: string, table: string, using: string): Promise<void> {
  const [index] = await q.query(
    `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1`,
    [name],
  );
  if (index?.valid) return;
  if (index) await q.query(`DROP INDEX CONCURRENTLY "${name}"`);
  await q.query(`CREATE INDEX CONCURRENTLY "${name}" ON ${table} USING ${using}`);
}

/**
 * Gives every message whose vector is `stale` (a condition on a row of `messages`; by default a
 * missing vector) its vector, through the trigger that writes it on a request of NULL: page ranges
 * up to the table's size now, a transaction each (later pages hold rows the trigger already
 * wrote), then sweeps for the rows another transaction held meanwhile, until none is left.
 */
export async function backfillSearchVectors(q: QueryRunner, pagesPerBatch: number, stale = 'search_vector IS NULL'): Promise<void> {
  const [{ pages }] = await q.query(`SELECT (pg_relation_size('messages') / current_setting('block_size')::int)::int AS pages`);
  // The rows by ctid (a TID scan), those another transaction holds skipped: no waiting, no deadlock.
  const fill = (rows: string) =>
    `WITH done AS (
       UPDATE messages SET search_vector = NULL WHERE ctid = ANY(ARRAY(${rows} FOR UPDATE SKIP LOCKED)) RETURNING 1)
     SELECT count(*)::int AS n FROM done`;
  for (let from = 0; from < pages; from += pagesPerBatch) {
    const range = `ctid >= '(${from},0)'::tid AND ctid < '(${from + pagesPerBatch},0)'::tid`;
    await q.query(fill(`SELECT ctid FROM messages WHERE ${range} AND ${stale}`));
  }
  const sweep = fill(`SELECT ctid FROM messages WHERE ${stale} LIMIT ${pagesPerBatch * 50}`);
  for (let waited = 0; ; ) {
    const [{ n }] = await q.query(sweep);
    if (n > 0) continue;
    const [left] = await q.query(`SELECT 1 FROM messages WHERE ${stale} LIMIT 1`);
    if (!left) return;
    // A row locked by a transaction still open: if it updates the row, the trigger writes the vector.
    if (waited >= LOCK_WAIT_MS * LOCK_ATTEMPTS) throw new Error('messages held by another transaction for five minutes: run the migration again');
    await sleep(200);
    waited += 200;
  }
}

/**
 * `statements` in one transaction that waits at most LOCK_WAIT_MS for its locks. A DDL statement
 * waiting for a busy table's lock blocks every writer queued behind it, so it gives way quickly
 * and tries again (for up to five minutes) rather than stall the writers until it gets it.
 */
export async function briefly(q: QueryRunner, statements: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await q.startTransaction();
    try {
      await q.query(`SET LOCAL lock_timeout = '${LOCK_WAIT_MS}ms'`);
      for (const sql of statements) await q.query(sql);
      await q.commitTransaction();
      return;
    } catch (error) {
      await q.rollbackTransaction();
      if (codeOf(error) !== '55P03' || attempt >= LOCK_ATTEMPTS) throw error;
      await sleep(LOCK_WAIT_MS);
    }
  }
}
