/** One page of a keyset list, already cut to size. */
export interface Page<T> {
  rows: T[];
  hasNextPage: boolean;
}

/** Rows fetched with `LIMIT size + 1`: the extra row only says that a next page exists. */
export function toPage<T>(rows: T[], size: number): Page<T> {
  return rows.length > size ? { rows: rows.slice(0, size), hasNextPage: true } : { rows, hasNextPage: false };
}

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
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
  afterGiven: boolean,
  cursorOf: (row: T) => string,
  totalCount: Connection<T>['totalCount'],
): Connection<T> {
  const { rows } = page;
  return {
    edges: rows.map((node) => ({ node, cursor: () => cursorOf(node) })),
    nodes: rows,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      // Forward paging only: items precede this page exactly when it started after a cursor.
      hasPreviousPage: afterGiven,
      startCursor: rows.length ? cursorOf(rows[0]) : null,
      endCursor: rows.length ? cursorOf(rows[rows.length - 1]) : null,
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
 * would return the function itself.
 */
export const connectionResolvers: Record<string, object> = Object.fromEntries(
  ['User', 'Session', 'Message', 'Skill'].flatMap((type) => [
    [`${type}Connection`, { totalCount: lazyField('totalCount') }],
    [`${type}Edge`, { cursor: lazyField('cursor') }],
  ]),
);
