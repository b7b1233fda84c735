import { EntityManager } from 'typeorm';

/**
 * Runs SQL on the manager's own connection (the caller's transaction) and returns its rows.
 * `manager.query` returns `[rows, count]` for UPDATE/DELETE … RETURNING but plain rows for
 * SELECT; the structured result has the rows either way.
 */
export async function queryRows<T = Record<string, any>>(manager: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  if (!manager.queryRunner) throw new Error('queryRows needs a manager bound to a query runner (a transaction or a subscriber event)');
  return (await manager.queryRunner.query(sql, params, true)).records as T[];
}

/**
 * What the read path needs of a database: one statement, its rows. Loaders take this rather than
 * a DataSource, so whatever routes reads (a pool, a replica, a transaction) can stand in.
 */
export interface Queryable {
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
}
