import { CursorKey } from './cursor';
import { SqlParams } from './sql-params';

/**
 * A keyset ordering: one sort column, ties broken by id in the same direction, so
 * `(column, id)` is a total order an index on `(…, column, id)` can walk from a cursor.
 */
export interface KeysetOrder<T> {
  /** Named in cursors, so a cursor only continues the ordering it came from. */
  name: string;
  column: string;
  desc: boolean;
  kind: 'time' | 'text';
  valueOf: (row: T) => Date | string;
}

export function orderSql<T>(order: KeysetOrder<T>, alias: string): string {
  const dir = order.desc ? 'DESC' : 'ASC';
  return `${alias}.${order.column} ${dir}, ${alias}.id ${dir}`;
}

/** Rows strictly after the cursor, as one row comparison so the index range starts there. */
export function afterSql<T>(order: KeysetOrder<T>, alias: string, key: CursorKey, params: SqlParams): string {
  const cast = order.kind === 'time' ? 'timestamptz' : 'text';
  const op = order.desc ? '<' : '>';
  return `(${alias}.${order.column}, ${alias}.id) ${op} (${params.add(key[0])}::${cast}, ${params.add(key[1])}::uuid)`;
}

export function cursorKeyOf<T extends { id: string }>(order: KeysetOrder<T>, row: T): CursorKey {
  const value = order.valueOf(row);
  return [value instanceof Date ? value.toISOString() : value, row.id];
}
