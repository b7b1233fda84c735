import { Resolvers } from '../generated/resolvers-types';

/** Queries and type fields of this feature (read API). */
export const nodeSyncResolvers: Resolvers = {
  Session: {
    nodeSync: (session, _, ctx) => ctx.loaders.nodeSyncBySessionId.get(session.id),
  },
};
