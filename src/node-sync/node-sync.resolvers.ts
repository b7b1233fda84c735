import { nodeSyncId } from '../common/value-ids';
import { Resolvers } from '../generated/resolvers-types';

/** Queries and type fields of this feature (read API). */
export const nodeSyncResolvers: Resolvers = {
  NodeSync: {
    id: (row) => nodeSyncId(row.sessionId, row.nodeId),
  },
  Session: {
    nodeSync: (session, _, ctx) => ctx.loaders.nodeSyncBySessionId.get(session.id),
  },
};
