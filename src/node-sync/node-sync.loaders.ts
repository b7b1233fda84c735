import { Viewer } from '../auth/viewer';
import { loader } from '../db/loader';
import { Queryable } from '../db/query-rows';
import { LoadRelation, RelationColumn, SessionFieldPrefetch } from '../sessions/session.relations';
import { NodeSyncModel, nodeSyncRows } from './node-sync.rows';

/** A session's node sync rows by node id (code point order, as a write's answer sorts them), as a column of the sessions' relations statement. */
const NODE_SYNC_COLUMN: RelationColumn<NodeSyncModel[]> = {
  sql: () => nodeSyncRows.jsonList(`SELECT ${nodeSyncRows.jsonSelect('ns')} FROM session_node_sync ns WHERE ns.session_id = s.id ORDER BY ns.node_id COLLATE "C"`),
  decode: (value) => nodeSyncRows.fromJson((value ?? []) as NodeSyncModel[]),
};

export function createNodeSyncLoaders(_db: Queryable, _viewer: Viewer, relations: LoadRelation) {
  return {
    /** `Session.nodeSync`: every reporting node's row per visible session, by node id. */
    nodeSyncBySessionId: loader<string, NodeSyncModel[]>('nodeSyncBySessionId', (ids) => relations(ids, NODE_SYNC_COLUMN)),
  };
}

/** `Session.nodeSync` fetched with a list's page statement. */
export function nodeSyncPrefetch(loaders: ReturnType<typeof createNodeSyncLoaders>): SessionFieldPrefetch {
  return {
    nodeSync: () => ({
      column: NODE_SYNC_COLUMN,
      prime: (id, value) => loaders.nodeSyncBySessionId.prime(id, value as NodeSyncModel[]),
    }),
  };
}
