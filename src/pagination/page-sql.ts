import { Connection, toConnection, toPage } from './connection';

/**
 * A page statement and its list's total as one statement. It always returns at least one row
 * (page columns null when the page is empty), so the count survives an empty page; callers
 * skip the row whose `id` is null.
 */
export function pageWithTotal(pageSql: string, countSql: string, outerOrder: string): string {
  return `WITH page AS (${pageSql}), total AS (${countSql})
    SELECT page.*, total.total_count FROM total LEFT JOIN page ON TRUE ORDER BY ${outerOrder}`;
}

/**
 * The connection of a top-level list from the rows of its page statement (built with
 * `pageWithTotal` when the total was selected): the count's row of an empty page is skipped,
 * every other row becomes a node through `toNode` (which also primes the by-id loaders), and an
 * unselected total is counted only if asked for later.
 */
export function rowsToConnection<T>(
  rows: Record<string, any>[],
  options: {
    size: number;
    afterGiven: boolean;
    withCount: boolean;
    toNode: (row: Record<string, any>) => T;
    cursorOf: (node: T) => string;
    count: () => Promise<number>;
  },
): Connection<T> {
  const nodes = rows.filter((row) => row.id !== null).map(options.toNode);
  const totalCount = options.withCount ? (rows[0]?.total_count ?? 0) : options.count;
  return toConnection(toPage(nodes, options.size), options.afterGiven, options.cursorOf, totalCount);
}
