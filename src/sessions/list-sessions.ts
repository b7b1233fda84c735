import { FieldNode, getArgumentValues, GraphQLObjectType, GraphQLResolveInfo } from 'graphql';
import { Context } from '../context';
import { Connection } from '../pagination/connection';
import { rowsToConnection } from '../pagination/page-sql';
import { encodeCursor, listId } from '../pagination/cursor';
import { cursorKeyOf } from '../pagination/keyset';
import { PageArgs, pageRequest } from '../pagination/page-args';
import { connectionSelectionOf, perSelection } from '../pagination/selection';
import { userPropertiesOf } from '../users/user.columns';
import { userRows } from '../users/user.rows';
import { sessionPagePropertiesOf } from './session.columns';
import { parseSessionFilter, SessionFilterInput } from './session.filter';
import { SessionOrderName, sessionOrder } from './session.order';
import { Prefetch } from './session.relations';
import { SessionModel, sessionRows } from './session.rows';
import { sessionsCountStatement, sessionsPageStatement } from './session.sql';

export interface SessionsArgs extends PageArgs {
  filter?: SessionFilterInput | null;
  orderBy?: SessionOrderName | null;
}

/**
 * The relations the page's nodes select that a loader can be primed with, one per field and
 * loader key (aliases with other arguments are others; the same field selected again, through
 * fragments or aliases, is one column when its loader key is the same). A selection whose arguments
 * are bad is left to its resolver, which reports the error at its own path.
 */
function prefetchesOf(ctx: Context, fields: readonly FieldNode[], info: GraphQLResolveInfo): Prefetch[] {
  const type = info.schema.getType('Session') as GraphQLObjectType;
  const prefetches = new Map<string, Prefetch>();
  for (const field of fields) {
    const prefetch = ctx.loaders.sessionFieldPrefetch[field.name.value];
    const definition = type.getFields()[field.name.value];
    if (!prefetch || !definition) continue;
    try {
      const args = getArgumentValues(definition, field, info.variableValues);
      const prefetched = prefetch(args, { field, fragments: info.fragments });
      const key = `${field.name.value}:${prefetched.key ?? JSON.stringify(args)}`;
      if (!prefetches.has(key)) prefetches.set(key, prefetched);
    } catch {
      // reported by the field's resolver
    }
  }
  return [...prefetches.values()];
}

/**
 * What a selection of `Query.sessions` asks for, and reads of each session and of its owner
 * (session.columns.ts, user.columns.ts), worked out once per document.
 */
const pageReads = perSelection((fieldNodes, fragments) => {
  const selection = connectionSelectionOf(fieldNodes, fragments);
  const owners = selection.nodeFieldNodes.filter((field) => field.name.value === 'owner');
  return { selection, properties: sessionPagePropertiesOf(selection), ownerProperties: userPropertiesOf(owners, fragments) };
});

/**
 * `Query.sessions`: the viewer's visible sessions, filtered, in keyset pages. The page, its
 * total count, the owners and the nodes' relations come from one statement when the query selects
 * them; the rows prime `sessionById`, `userById` and the relation loaders so nested fields reuse them.
 */
export async function listSessions(ctx: Context, args: SessionsArgs, info: GraphQLResolveInfo): Promise<Connection<SessionModel>> {
  const filter = parseSessionFilter(args.filter);
  const order = sessionOrder(args.orderBy);
  const list = listId('sessions', order.name, filter.key);
  const request = pageRequest(args, list, order.kind, ctx.config.maxPageSize);
  const reads = pageReads(info.fieldNodes, info.fragments);
  const { selection, properties } = reads;
  const withCount = selection.totalCount;
  // A member's sessions are all their own, and their own row is already primed (unless remembered).
  const withOwner = (ctx.viewer.isAdmin || ctx.viewerPrimed === false) && selection.nodeFields.has('owner');

  const prefetch = prefetchesOf(ctx, selection.nodeFieldNodes, info);
  // What the nodes and their owners read: cut, they prime the by-id loaders cut, for selections
  // that read no more (`getFor`), never for `get`/`load`.
  const ownerProperties = withOwner ? reads.ownerProperties : null;

  const pageArgs = { filter, order, ...request };
  const relations = prefetch.map((p) => p.column);
  const { sql, params } = sessionsPageStatement(ctx.viewer, pageArgs, {
    withCount, withOwner, relations, probe: selection.pageInfo, properties, ownerProperties,
  });
  const rows: Record<string, unknown>[] = await ctx.dataSource.query(sql, params);

  const { sessionById, userById } = ctx.loaders;
  return rowsToConnection(rows, {
    request,
    withCount,
    toNode: (row) => {
      const session = sessionRows.fromRow(row);
      sessionById.primeAs(session.id, session, properties);
      if (withOwner) userById.primeAs(session.userId, userRows.fromRow(row, 'owner_'), ownerProperties);
      prefetch.forEach((p, i) => p.prime(session.id, p.column.decode(row[`r${i}`])));
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
