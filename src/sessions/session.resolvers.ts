import { Resolvers } from '../generated/resolvers-types';
import { GraphQLResolveInfo } from 'graphql';
import { Context } from '../context';
import { required } from '../errors';
import { parseId } from '../ids';
import { PageArgs } from '../pagination/page-args';
import { SkillModel } from '../skills/skill.rows';
import { UserModel } from '../users/user.rows';
import { SessionModel } from './session.rows';
import { LIVE_SESSIONS, SessionFilterInput } from './session.filter';
import { listSessions, SessionsArgs } from './session.list';
import { sessionsOfSkill, sessionsOfUser } from './session.pages';

/** Queries and type fields of this feature (read API). */
export const sessionResolvers: Resolvers = {
  Query: {
    /** Soft-deleted sessions are found through `sessions(filter: { deleted })`, not by id. */
    session: async (_: unknown, args: { id: string }, ctx: Context) => {
      const session = await ctx.loaders.sessionById.load(parseId(args.id));
      return session && !session.deletedAt ? session : null;
    },
    sessions: (_: unknown, args: SessionsArgs, ctx: Context, info: GraphQLResolveInfo) => listSessions(ctx, args, info),
  },
  Session: {
    // A member only sees their own sessions, an admin sees every user: the owner is visible.
    owner: (session: SessionModel, _: unknown, ctx: Context) => {
      const owner = ctx.loaders.userById.get(session.userId);
      return owner instanceof Promise || !owner ? required(Promise.resolve(owner), `owner of session ${session.id}`) : owner;
    },
  },
  User: {
    sessions: (user: UserModel, args: PageArgs & { filter?: SessionFilterInput | null }, ctx: Context) =>
      sessionsOfUser(ctx, user, args),
    sessionCount: (user: UserModel, _: unknown, ctx: Context) =>
      ctx.loaders.sessionCountByUserId.load({ id: user.id, args: LIVE_SESSIONS, argsKey: LIVE_SESSIONS.key }),
  },
  Skill: {
    sessions: (skill: SkillModel, args: PageArgs, ctx: Context) => sessionsOfSkill(ctx, skill, args),
    sessionCount: (skill: SkillModel, _: unknown, ctx: Context) => ctx.loaders.sessionCountBySkillId.load(skill.id),
  },
};
