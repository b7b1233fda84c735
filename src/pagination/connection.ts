import { PageRequest } from './page-args';

/** One page of a keyset list, already cut to size and in list order. */
export interface Page<T> {
  rows: T[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

/** Whether the list goes on beyond the window's cursors (see `edgeFlagsSql`). */
export interface EdgeFlags {
  moreBefore: boolean;
  moreAfter: boolean;
}

export const NO_EDGES: EdgeFlags = { moreBefore: false, moreAfter: false };

/** The flags a statement's row carries (`more_before`, `more_after`); absent columns are false. */
export function edgeFlagsOf(row: Record<string, any> | undefined): EdgeFlags {
  return {
    moreBefore: row?.more_before === true,
    moreAfter: row?.more_after === true,
  };
}

/**
 * Rows fetched in fetch order with `LIMIT size + 1`: the extra row says that the window holds
 * more in the paging direction. Both flags are exact: towards the paging direction, the extra
 * row or (when the window is closed by a cursor) an item beyond it; behind, an item beyond the
 * cursor the page started from. A backward page is returned in list order.
 */
export function toPage<T>(fetched: T[], request: PageRequest, edges: EdgeFlags = NO_EDGES): Page<T> {
  const extra = fetched.length > request.size;
  const rows = extra ? fetched.slice(0, request.size) : [...fetched];
  if (!request.backward)
    return {
      rows,
      hasNextPage: extra || edges.moreAfter,
      hasPreviousPage: edges.moreBefore,
    };
  return {
    rows: rows.reverse(),
    hasNextPage: edges.moreAfter,
    hasPreviousPage: extra || edges.moreBefore,
  };
}

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  // Functions, like edge cursors: a dashboard's nested connections rarely select them.
  startCursor: () => string | null;
  endCursor: () => string | null;
}

/**
 * A Relay connection. `totalCount` and each edge's `cursor` may be functions: GraphQL's
 * default resolver calls a function-valued property, so a count or cursor nobody selected
 * is never computed (the count costs a statement; cursors cost a JSON encode per row).
 */
export interface Connection<T> {
  edges: { node: T; cursor: () => string }[];
  nodes: T[];
  pageInfo: PageInfo;
  totalCount: number | (() => number | Promise<number>);
}

export function toConnection<T>(
  page: Page<T>,
  cursorOf: (row: T) => string,
  totalCount: Connection<T>['totalCount'],
): Connection<T> {
  const { rows } = page;
  return {
    edges: rows.map((node) => ({ node, cursor: () => cursorOf(node) })),
    nodes: rows,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: () => (rows.length ? cursorOf(rows[0]) : null),
      endCursor: () => (rows.length ? cursorOf(rows[rows.length - 1]) : null),
    },
    totalCount,
  };
}

/** What GraphQL's default resolver does with a property that may be a function: calls it as a method. */
function lazyField(name: string) {
  return (parent: Record<string, unknown>, args: unknown, context: unknown, info: unknown) => {
    const value = parent[name];
    return typeof value === 'function' ? value.call(parent, args, context, info) : value;
  };
}

/**
 * Resolvers for the lazy fields above, stated rather than left to the default resolver: the
 * compiled executor (graphql-jit) reads a field without a resolver as a plain property and
 * would return the function itself. Which types are connections and edges is Relay's naming
 * rule (`…Connection`, `…Edge`), applied to the schema's object type names.
 */
export function connectionResolvers(typeNames: readonly string[]): Record<string, object> {
  return Object.fromEntries([
    ...typeNames.filter((name) => name.endsWith('Connection')).map((name) => [name, { totalCount: lazyField('totalCount') }]),
    ...typeNames.filter((name) => name.endsWith('Edge')).map((name) => [name, { cursor: lazyField('cursor') }]),
    ['PageInfo', { startCursor: lazyField('startCursor'), endCursor: lazyField('endCursor') }],
  ]);
}
