/**
 * A page statement and its list's total as one statement. It always returns at least one row
 * (page columns null when the page is empty), so the count survives an empty page; callers
 * skip the row whose `id` is null.
 */
export function pageWithTotal(pageSql: string, countSql: string, outerOrder: string): string {
  return `WITH page AS (${pageSql}), total AS (${countSql})
    SELECT page.*, total.total_count FROM total LEFT JOIN page ON TRUE ORDER BY ${outerOrder}`;
}
