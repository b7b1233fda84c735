import { GraphQLResolveInfo } from 'graphql';
import { Context } from '../context';
import { badField } from '../errors';
import type { QuerySearchMessagesArgs } from '../generated/schema-types';
import { messageRows } from '../messages/message.rows';
import { Connection } from '../pagination/connection';
import { encodeCursor, listId } from '../pagination/cursor';
import { cursorKeyOf } from '../pagination/keyset';
import { pageRequest } from '../pagination/page-args';
import { rowsToConnection } from '../pagination/page-sql';
import { connectionSelection } from '../pagination/selection';
import { parseSessionFilter, searchTextProblem } from '../sessions/session.filter';
import { sessionRows } from '../sessions/session.rows';
import { BY_RANK, SearchHit, searchCountStatement, searchPageStatement } from './search.sql';

/** What `MessageSearchConnection` resolves from: a connection of hits, edges carrying rank and highlight. */
export type MessageSearchConnectionModel = Omit<Connection<SearchHit>, 'edges' | 'nodes'> & {
  edges: { node: SearchHit['message']; cursor: () => string; rank: number; highlight: string }[];
  nodes: SearchHit['message'][];
};

/**
 * `Query.searchMessages`: the viewer's matching messages, best first, in keyset pages of one
 * statement (the count and edge flags in it when selected). Cursors name the query text and the
 * filter, so a cursor only continues the search it came from. The rows prime `messageById` and
 * `sessionById`, so `node { session { … } }` costs nothing more.
 */
export async function searchMessages(ctx: Context, args: QuerySearchMessagesArgs, info: GraphQLResolveInfo): Promise<MessageSearchConnectionModel> {
  const problem = searchTextProblem(args.query);
  if (problem) throw badField('query', problem);
  const filter = parseSessionFilter(args.filter);
  const list = listId('searchMessages', BY_RANK.name, JSON.stringify([filter.key, args.query]));
  const request = pageRequest(args, list, BY_RANK.kind, ctx.config.maxPageSize);
  const withCount = connectionSelection(info).totalCount;
  const { sql, params } = searchPageStatement(ctx.viewer, { text: args.query, filter, ...request }, withCount);
  const rows: Record<string, unknown>[] = await ctx.dataSource.query(sql, params);

  const { messageById, sessionById } = ctx.loaders;
  const connection = rowsToConnection(rows, {
    request,
    withCount,
    toNode: (row): SearchHit => {
      const session = sessionRows.fromRow(row, 'session_');
      sessionById.prime(session.id, session);
      const message = messageRows.fromRow(row);
      messageById.prime(message.id, message);
      return { id: message.id, message, rank: row.rank as number, highlight: row.highlight as string };
    },
    cursorOf: (hit) => encodeCursor(list, cursorKeyOf(BY_RANK, hit)),
    count: async () => {
      const counted = searchCountStatement(ctx.viewer, args.query, filter);
      const [first] = await ctx.dataSource.query(counted.sql, counted.params);
      return first.total_count;
    },
  });
  return {
    ...connection,
    edges: connection.edges.map(({ node, cursor }) => ({ node: node.message, cursor, rank: node.rank, highlight: node.highlight })),
    nodes: connection.nodes.map((hit) => hit.message),
  };
}
