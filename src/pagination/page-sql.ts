import { Connection, edgeFlagsOf, toConnection, toPage } from './connection';
import { PageRequest } from './page-args';

/**
 * A page statement with one-row extras of its list (the total count, the window's edge flags):
 * it always returns at least one row (page columns null when the page is empty), so the extras
 * survive an empty page; callers skip the row whose `id` is null. `extras` are select-list
 * items (`(SELECT count(*) …) AS total_count`, `edgeFlagsSql(…)`); `rows` may join the page to
 * more tables, `select` names what to take from them.
 */
export function pageWithExtras(
  pageSql: string,
  extras: string[],
  outerOrder: string,
  rows = 'page',
  select = 'page.*',
): string {
  return `WITH page AS (${pageSql}), extra AS (SELECT ${extras.join(', ')})
    SELECT ${select}, extra.* FROM extra LEFT JOIN ${rows} ON TRUE ORDER BY ${outerOrder}`;
}

/**
 * The connection of a top-level list from the rows of its page statement (built with
 * `pageWithExtras` when the total or edge flags were needed): the extras' row of an empty page
 * is skipped, every other row becomes a node through `toNode` (which also primes the by-id
 * loaders), and an unselected total is counted only if asked for later.
 */
export function rowsToConnection<T>(
  rows: Record<string, any>[],
  options: {
    request: PageRequest;
    withCount: boolean;
    toNode: (row: Record<string, any>) => T;
    cursorOf: (node: T) => string;
    count: () => Promise<number>;
  },
): Connection<T> {
  const nodes = rows.filter((row) => row.id !== null).map(options.toNode);
  const totalCount = options.withCount ? (rows[0]?.total_count ?? 0) : options.count;
  return toConnection(toPage(nodes, options.request, edgeFlagsOf(rows[0])), options.cursorOf, totalCount);
}

/**
 * Per-parent pages from one statement's rows (ordered by parent, then fetch order), in key
 * order. Each row carries its parent in `parent_id`; with cursors the statement left-joins the
 * page, so a parent with an empty page still has one row (`id` null) carrying its edge flags.
 */
export function pagesOfParents<T>(
  ids: readonly string[],
  rows: Record<string, any>[],
  request: PageRequest,
  toNode: (row: Record<string, any>) => T,
) {
  const groups = new Map<string, { first: Record<string, any>; nodes: T[] }>();
  for (const row of rows) {
    let group = groups.get(row.parent_id);
    if (!group) groups.set(row.parent_id, (group = { first: row, nodes: [] }));
    if (row.id !== null) group.nodes.push(toNode(row));
  }
  return ids.map((id) => {
    const group = groups.get(id);
    return toPage(group?.nodes ?? [], request, edgeFlagsOf(group?.first));
  });
}
