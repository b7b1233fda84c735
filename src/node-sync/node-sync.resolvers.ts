import { Context } from '../context';
import { Session } from '../sessions/session.entity';

/** Queries and type fields of this feature (read API). */
export const nodeSyncResolvers = {
  Session: {
    nodeSync: (session: Session, _: unknown, ctx: Context) => ctx.loaders.nodeSyncBySessionId.load(session.id),
  },
};
