import { loader } from '../db/loader';
import { DataSource } from 'typeorm';
import { Viewer } from '../auth/viewer';
import { groupByKeys } from '../db/by-keys';
import { SqlParams } from '../pagination/sql-params';
import { sessionScope } from '../sessions/session.scope';
import { NodeSync } from './node-sync.entity';

export function createNodeSyncLoaders(dataSource: DataSource, viewer: Viewer) {
  return {
    /** `Session.nodeSync`: every reporting node's row per visible session, by node id, in one statement. */
    nodeSyncBySessionId: loader<string, NodeSync[]>('nodeSyncBySessionId', async (ids) => {
      const params = new SqlParams();
      const sql = `SELECT ns.session_id, ns.node_id, ns.status, ns.error, ns.updated_at
        FROM session_node_sync ns
        JOIN sessions s ON s.id = ns.session_id AND ${params.named(sessionScope(viewer, 's'))}
        WHERE ns.session_id = ANY(${params.add(ids)}::uuid[])
        ORDER BY ns.session_id, ns.node_id`;
      const rows: Record<string, any>[] = await dataSource.query(sql, params.values);
      const syncs = rows.map((row) =>
        Object.assign(new NodeSync(), {
          sessionId: row.session_id,
          nodeId: row.node_id,
          status: row.status,
          error: row.error,
          updatedAt: row.updated_at,
        }),
      );
      return groupByKeys(ids, syncs, (n) => n.sessionId);
    }),
  };
}
