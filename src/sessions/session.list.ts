import { GraphQLResolveInfo } from 'graphql';
import { Context } from '../context';
import { Connection } from '../pagination/connection';
import { rowsToConnection } from '../pagination/page-sql';
import { encodeCursor, listId } from '../pagination/cursor';
import { cursorKeyOf } from '../pagination/keyset';
import { PageArgs, pageRequest } from '../pagination/page-args';
import { connectionSelection } from '../pagination/selection';
import { toUser } from '../users/user.rows';
import { Session } from './session.entity';
import { parseSessionFilter, SessionFilterInput } from './session.filter';
import { SessionOrderName, sessionOrder } from './session.order';
import { sessionsCountStatement, sessionsPageStatement } from './session.sql';
import { toSession } from './session.rows';

export interface SessionsArgs extends PageArgs {
  filter?: SessionFilterInput | null;
  orderBy?: SessionOrderName | null;
}

/**
 * `Query.sessions`: the viewer's visible sessions, filtered, in keyset pages. The page, its
 * total count and the owners come from one statement when the query selects them; the rows
 * prime `sessionById` and `userById` so nested fields reuse them.
 */
export async function listSessions(ctx: Context, args: SessionsArgs, info: GraphQLResolveInfo): Promise<Connection<Session>> {
  const filter = parseSessionFilter(args.filter);
  const order = sessionOrder(args.orderBy);
  const list = listId('sessions', order.name, filter.key);
  const request = pageRequest(args, list, order.kind, ctx.config.maxPageSize);
  const selection = connectionSelection(info);
  const withCount = selection.totalCount;
  // A member's sessions are all their own, and their own row is already primed.
  const withOwner = ctx.viewer.isAdmin && selection.nodeFields.has('owner');

  const pageArgs = { filter, order, ...request };
  const { sql, params } = sessionsPageStatement(ctx.viewer, pageArgs, { withCount, withOwner });
  const rows: Record<string, any>[] = await ctx.dataSource.query(sql, params);

  const { sessionById, userById } = ctx.loaders;
  return rowsToConnection(rows, {
    request,
    withCount,
    toNode: (row) => {
      const session = toSession(row);
      sessionById.prime(session.id, session);
      if (withOwner) userById.prime(session.userId, toUser(row, 'owner_'));
      return session;
    },
    cursorOf: (s) => encodeCursor(list, cursorKeyOf(order, s)),
    count: async () => {
      const counted = sessionsCountStatement(ctx.viewer, filter);
      const [first] = await ctx.dataSource.query(counted.sql, counted.params);
      return first.total_count;
    },
  });
}
