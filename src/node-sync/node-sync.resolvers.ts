import { Resolvers } from '../generated/resolvers-types';
import { Context } from '../context';
import { Session } from '../sessions/session.entity';

/** Queries and type fields of this feature (read API). */
export const nodeSyncResolvers: Resolvers = {
  Session: {
    nodeSync: (session: Session, _: unknown, ctx: Context) => ctx.loaders.nodeSyncBySessionId.load(session.id),
  },
};
