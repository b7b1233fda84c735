import { GraphQLResolveInfo } from 'graphql';
import { Context } from '../context';
import { forbidden } from '../errors';
import { Connection } from '../pagination/connection';
import { decodeCursor, encodeCursor, listId } from '../pagination/cursor';
import { afterSql, cursorKeyOf, KeysetOrder, orderSql } from '../pagination/keyset';
import { pageSize } from '../pagination/page-size';
import { pageWithTotal, rowsToConnection } from '../pagination/page-sql';
import { connectionSelection } from '../pagination/selection';
import { SqlParams } from '../pagination/sql-params';
import { User } from './user.entity';
import { toUser, userColumns } from './user.rows';

export const USERS_OLDEST_FIRST: KeysetOrder<User> = {
  name: 'CREATED_AT_ASC',
  column: 'created_at',
  desc: false,
  kind: 'time',
  valueOf: (u) => u.createdAt,
};

const COUNT_SQL = 'SELECT count(*)::int AS total_count FROM users u';

/** `Query.users`: every user, oldest first, ADMIN only; the rows prime `userById`. */
export async function listUsers(
  ctx: Context,
  args: { first?: number | null; after?: string | null },
  info: GraphQLResolveInfo,
): Promise<Connection<User>> {
  if (!ctx.viewer.isAdmin) throw forbidden('Listing users needs the ADMIN role');
  const size = pageSize(args.first, ctx.config.maxPageSize);
  const list = listId('users', USERS_OLDEST_FIRST.name);
  const after = decodeCursor(list, args.after, USERS_OLDEST_FIRST.kind);
  const withCount = connectionSelection(info).totalCount;

  const params = new SqlParams();
  const where = after ? `WHERE ${afterSql(USERS_OLDEST_FIRST, 'u', after, params)}` : '';
  const pageSql = `SELECT ${userColumns('u')} FROM users u ${where}
    ORDER BY ${orderSql(USERS_OLDEST_FIRST, 'u')} LIMIT ${params.add(size + 1)}`;
  const sql = withCount ? pageWithTotal(pageSql, COUNT_SQL, orderSql(USERS_OLDEST_FIRST, 'page')) : pageSql;
  const rows: Record<string, any>[] = await ctx.dataSource.query(sql, params.values);

  return rowsToConnection(rows, {
    size,
    afterGiven: Boolean(args.after),
    withCount,
    toNode: (row) => {
      const user = toUser(row);
      ctx.loaders.userById.prime(user.id, user);
      return user;
    },
    cursorOf: (u) => encodeCursor(list, cursorKeyOf(USERS_OLDEST_FIRST, u)),
    count: async () => (await ctx.dataSource.query(COUNT_SQL))[0].total_count,
  });
}
