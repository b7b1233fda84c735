import { GraphQLResolveInfo } from 'graphql';
import { Queryable } from '../db/query-rows';
import { Connection } from './connection';
import { encodeCursor, listId } from './cursor';
import { anyRowSql, cursorKeyOf, edgeFlagsSql, KeysetOrder, orderSql, windowSql } from './keyset';
import { PageArgs, pageRequest } from './page-args';
import { pageWithExtras, rowsToConnection } from './page-sql';
import { connectionSelection } from './selection';
import { SqlParams } from '../db/sql-params';

/** One table's rows (those meeting `where`) as a top-level keyset list: `Query.users`, `Query.skills`. */
export interface TableList<T extends { id: string }> {
  /** The list's name in its cursors (`listId`). */
  name: string;
  table: string;
  alias: string;
  /** Conditions on `alias` that every row of the list meets (none: the whole table). */
  where: string[];
  order: KeysetOrder<T>;
  /** The read path's select list and hydration (src/db/entity-rows.ts). */
  rows: { select(alias: string): string; fromRow(row: Record<string, unknown>): T };
}

/**
 * A page of a table list in one statement: the rows, and the total and edge flags joined to it
 * when selected or needed. Each node goes through `onNode` (callers prime their by-id loader).
 */
export async function tableListPage<T extends { id: string }>(
  db: Queryable,
  list: TableList<T>,
  args: PageArgs,
  info: GraphQLResolveInfo,
  maxPageSize: number,
  onNode: (node: T) => void,
): Promise<Connection<T>> {
  const { order, alias } = list;
  const id = listId(list.name, order.name);
  const request = pageRequest(args, id, order.kind, maxPageSize);
  const withCount = connectionSelection(info).totalCount;
  const from = `${list.table} ${alias}`;
  const whereSql = (conditions: string[]) => (conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '');

  const params = new SqlParams();
  const countSql = `SELECT count(*)::int AS total_count FROM ${from}${whereSql(list.where)}`;
  const window = [...list.where, ...windowSql(order, alias, request, params)];
  const pageSql = (select: string) => `SELECT ${select} FROM ${from}${whereSql(window)}
    ORDER BY ${orderSql(order, alias, request.backward)} LIMIT ${params.limit(request.size + 1)}`;
  const flags = edgeFlagsSql(order, alias, request, params, (c, o) => anyRowSql(from, [...list.where, c].join(' AND '), o));
  const extras = [...(withCount ? [`(${countSql}) AS total_count`] : []), ...(flags ? [flags] : [])];
  // With extras the page keeps its raw columns (ordered on them); the read models are formatted outside.
  const sql = extras.length
    ? pageWithExtras(pageSql(`${alias}.*`), extras, orderSql(order, 'page', request.backward), 'page', list.rows.select('page'))
    : pageSql(list.rows.select(alias));
  const rows: Record<string, unknown>[] = await db.query(sql, params.values);

  return rowsToConnection(rows, {
    request,
    withCount,
    toNode: (row) => {
      const node = list.rows.fromRow(row);
      onNode(node);
      return node;
    },
    cursorOf: (node) => encodeCursor(id, cursorKeyOf(order, node)),
    count: async () => (await db.query(countSql))[0].total_count,
  });
}
