import { Resolvers } from '../generated/resolvers-types';
import { Context } from '../context';
import { SessionModel } from '../sessions/session.rows';

/** Queries and type fields of this feature (read API). */
export const nodeSyncResolvers: Resolvers = {
  Session: {
    nodeSync: (session: SessionModel, _: unknown, ctx: Context) => ctx.loaders.nodeSyncBySessionId.get(session.id),
  },
};
