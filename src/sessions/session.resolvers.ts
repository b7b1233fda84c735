import { Resolvers } from '../generated/resolvers-types';
import { requiredNow } from '../errors';
import { parseId } from '../ids';
import { userPropertiesOf } from '../users/user.columns';
import { LIVE_SESSIONS } from './session.filter';
import { listSessions } from './list-sessions';
import { sessionsOfSkill, sessionsOfUser } from './sessions-of-parent';

/** Queries and type fields of this feature (read API). */
export const sessionResolvers: Resolvers = {
  Query: {
    /** Soft-deleted sessions are found through `sessions(filter: { deleted })`, not by id. */
    session: async (_, args, ctx) => {
      const session = await ctx.loaders.sessionById.load(parseId(args.id));
      return session && !session.deletedAt ? session : null;
    },
    sessions: (_, args, ctx, info) => listSessions(ctx, args, info),
  },
  Session: {
    // A member only sees their own sessions, an admin sees every user: the owner is visible.
    owner: (session, _, ctx, info) => {
      return requiredNow(ctx.loaders.userById.getFor(session.userId, userPropertiesOf(info.fieldNodes, info.fragments)), 'User', session.userId);
    },
  },
  User: {
    sessions: (user, args, ctx) =>
      sessionsOfUser(ctx, user, args),
    sessionCount: (user, _, ctx) =>
      ctx.loaders.sessionCountByUserId.load({ id: user.id, args: LIVE_SESSIONS, argsKey: LIVE_SESSIONS.key }),
  },
  Skill: {
    sessions: (skill, args, ctx) => sessionsOfSkill(ctx, skill, args),
    sessionCount: (skill, _, ctx) => ctx.loaders.sessionCountBySkillId.load(skill.id),
  },
};
