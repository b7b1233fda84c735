import { GraphQLResolveInfo } from 'graphql';
import { Context } from '../context';
import { forbidden } from '../errors';
import { Connection } from '../pagination/connection';
import { encodeCursor, listId } from '../pagination/cursor';
import { anyRowSql, cursorKeyOf, edgeFlagsSql, KeysetOrder, orderSql, windowSql } from '../pagination/keyset';
import { PageArgs, pageRequest } from '../pagination/page-args';
import { pageWithExtras, rowsToConnection } from '../pagination/page-sql';
import { connectionSelection } from '../pagination/selection';
import { SqlParams } from '../pagination/sql-params';
import { UserModel, userRows } from './user.rows';

export const USERS_OLDEST_FIRST: KeysetOrder<UserModel> = {
  name: 'CREATED_AT_ASC',
  column: 'created_at',
  desc: false,
  kind: 'time',
  valueOf: (u) => u.createdAt,
};

const COUNT_SQL = 'SELECT count(*)::int AS total_count FROM users u';

/** `Query.users`: every user, oldest first, ADMIN only; the rows prime `userById`. */
export async function listUsers(ctx: Context, args: PageArgs, info: GraphQLResolveInfo): Promise<Connection<UserModel>> {
  if (!ctx.viewer.isAdmin) throw forbidden('Listing users needs the ADMIN role');
  const order = USERS_OLDEST_FIRST;
  const list = listId('users', order.name);
  const request = pageRequest(args, list, order.kind, ctx.config.maxPageSize);
  const withCount = connectionSelection(info).totalCount;

  const params = new SqlParams();
  const window = windowSql(order, 'u', request, params);
  const pageSql = (select: string) => `SELECT ${select} FROM users u ${window.length ? `WHERE ${window.join(' AND ')}` : ''}
    ORDER BY ${orderSql(order, 'u', request.backward)} LIMIT ${params.limit(request.size + 1)}`;
  const flags = edgeFlagsSql(order, 'u', request, params, (c, o) => anyRowSql('users u', c, o));
  const extras = [...(withCount ? [`(${COUNT_SQL}) AS total_count`] : []), ...(flags ? [flags] : [])];
  // With extras the page keeps its raw columns (ordered on them); the read models are formatted outside.
  const sql = extras.length
    ? pageWithExtras(pageSql('u.*'), extras, orderSql(order, 'page', request.backward), 'page', userRows.select('page'))
    : pageSql(userRows.select('u'));
  const rows: Record<string, unknown>[] = await ctx.dataSource.query(sql, params.values);

  return rowsToConnection(rows, {
    request,
    withCount,
    toNode: (row) => {
      const user = userRows.fromRow(row);
      ctx.loaders.userById.prime(user.id, user);
      return user;
    },
    cursorOf: (u) => encodeCursor(list, cursorKeyOf(order, u)),
    count: async () => (await ctx.dataSource.query(COUNT_SQL))[0].total_count,
  });
}
