import { Viewer } from '../auth/viewer';
import { isoText } from '../db/entity-rows';
import type { SyncStatus } from '../generated/schema-types';
import { SqlParams } from '../db/sql-params';
import { filterConditions, SessionFilter } from '../sessions/session.filter';
import { sessionScope } from '../sessions/session.scope';

/** Every value of the schema's `SyncStatus`, in its order: a new one is a type error here until counted. */
export const SUMMARY_STATUSES = { PENDING: 0, SYNCING: 1, SYNCED: 2, FAILED: 3 } satisfies Record<SyncStatus, number>;

/**
 * `Query.nodeSyncSummary` as one statement: the sync rows of the sessions the viewer may see
 * under the filter, grouped by node (byte order of the node id), one count per status, the
 * oldest report still pending and the latest report.
 */
export function nodeSyncSummaryStatement(viewer: Viewer, filter: SessionFilter): { sql: string; params: unknown[] } {
  const params = new SqlParams();
  const where = [params.named(sessionScope(viewer, 's')), ...filterConditions(filter, 's', params)].join(' AND ');
  const counts = Object.keys(SUMMARY_STATUSES)
    .map((status) => `count(*) FILTER (WHERE ns.status = '${status}')::int AS "${status}"`)
    .join(', ');
  const sql = `SELECT ns.node_id AS "nodeId", ${counts},
      ${isoText(`min(ns.updated_at) FILTER (WHERE ns.status = 'PENDING')`)} AS "oldestPendingSince",
      ${isoText('max(ns.updated_at)')} AS "lastReportAt"
    FROM session_node_sync ns JOIN sessions s ON s.id = ns.session_id WHERE ${where}
    GROUP BY ns.node_id ORDER BY ns.node_id COLLATE "C"`;
  return { sql, params: params.values };
}
