import { CursorKey, CursorKind } from './cursor';
import { PageRequest } from './page-args';
import { SqlParams } from '../db/sql-params';

/**
 * A keyset ordering: one sort column, ties broken by id in the same direction, so
 * `(column, id)` is a total order an index on `(…, column, id)` can walk from a cursor, in
 * either direction.
 */
export interface KeysetOrder<T> {
  /** Named in cursors, so a cursor only continues the ordering it came from. */
  name: string;
  column: string;
  desc: boolean;
  kind: CursorKind;
  valueOf: (row: T) => Date | string | number | bigint;
}

const CAST: Record<CursorKind, string> = {
  time: 'timestamptz',
  text: 'text',
  int4: 'int4',
  int8: 'int8',
  float8: 'float8',
};

/**
 * The order rows are fetched in: the list's order for a forward page, its reverse for a
 * backward one (so `LIMIT` keeps the items nearest the `before` end). `toPage` turns a backward
 * page back into list order.
 */
export function orderSql<T>(order: KeysetOrder<T>, alias: string, backward = false): string {
  const dir = order.desc !== backward ? 'DESC' : 'ASC';
  return `${alias}.${order.column} ${dir}, ${alias}.id ${dir}`;
}

/** Where rows sit relative to a cursor, in the list's order. */
type Side = 'after' | 'before' | 'atOrAfter' | 'atOrBefore';
const ASC_OP: Record<Side, string> = {
  after: '>',
  before: '<',
  atOrAfter: '>=',
  atOrBefore: '<=',
};
const FLIP: Record<string, string> = {
  '>': '<',
  '<': '>',
  '>=': '<=',
  '<=': '>=',
};

/** Rows on one side of a cursor, as one row comparison so an index range starts there. */
export function keysetSql<T>(
  order: KeysetOrder<T>,
  alias: string,
  key: CursorKey,
  side: Side,
  params: SqlParams,
): string {
  const op = order.desc ? FLIP[ASC_OP[side]] : ASC_OP[side];
  return `(${alias}.${order.column}, ${alias}.id) ${op} (${params.add(key[0])}::${CAST[order.kind]}, ${params.add(key[1])}::uuid)`;
}

/** Rows strictly after the cursor. */
export function afterSql<T>(order: KeysetOrder<T>, alias: string, key: CursorKey, params: SqlParams): string {
  return keysetSql(order, alias, key, 'after', params);
}

/** The window's conditions: strictly after `after` and strictly before `before`. */
export function windowSql<T>(order: KeysetOrder<T>, alias: string, request: PageRequest, params: SqlParams): string[] {
  const where: string[] = [];
  if (request.after) where.push(keysetSql(order, alias, request.after, 'after', params));
  if (request.before) where.push(keysetSql(order, alias, request.before, 'before', params));
  return where;
}

/**
 * Whether the list goes on beyond the window's cursors, for exact `hasPreviousPage` /
 * `hasNextPage`: `more_before` (an item at or before `after`) and `more_after` (an item at or
 * after `before`), as select-list columns. `probe(condition, nearestFirst)` turns a condition on
 * alias `alias` into a boolean over the list (its scope and filter), reading at most the row
 * nearest the cursor: written with `anyRowSql`, it is one index probe from the cursor (an
 * `EXISTS` would lose its ORDER BY, and the planner may then scan the table for it). Without
 * cursors there is nothing beyond the window's open ends and no extra work: `null`.
 */
export function edgeFlagsSql<T>(
  order: KeysetOrder<T>,
  alias: string,
  request: PageRequest,
  params: SqlParams,
  probe: (condition: string, nearestFirst: string) => string,
): string | null {
  if (!request.after && !request.before) return null;
  const before = request.after
    ? probe(keysetSql(order, alias, request.after, 'atOrBefore', params), orderSql(order, alias, true))
    : 'FALSE';
  const after = request.before
    ? probe(keysetSql(order, alias, request.before, 'atOrAfter', params), orderSql(order, alias, false))
    : 'FALSE';
  return `${before} AS more_before, ${after} AS more_after`;
}

/** True when `SELECT … FROM from WHERE where` has a row; reads only the first one in `orderBy`. */
export function anyRowSql(from: string, where: string, orderBy?: string): string {
  return `COALESCE((SELECT TRUE FROM ${from} WHERE ${where}${orderBy ? ` ORDER BY ${orderBy}` : ''} LIMIT 1), FALSE)`;
}

export function cursorKeyOf<T extends { id: string }>(order: KeysetOrder<T>, row: T): CursorKey {
  const value = order.valueOf(row);
  return [value instanceof Date ? value.toISOString() : String(value), row.id];
}
