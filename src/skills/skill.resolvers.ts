import { Resolvers } from '../generated/resolvers-types';
import { GraphQLResolveInfo } from 'graphql';
import { Context } from '../context';
import { parseId } from '../ids';
import { PageArgs } from '../pagination/page-args';
import { SessionModel } from '../sessions/session.rows';
import { listSkills } from './skill.list';

/** Queries and type fields of this feature (read API). */
export const skillResolvers: Resolvers = {
  Query: {
    skill: (_: unknown, args: { id: string }, ctx: Context) => ctx.loaders.skillById.load(parseId(args.id)),
    skills: (_: unknown, args: PageArgs, ctx: Context, info: GraphQLResolveInfo) =>
      listSkills(ctx, args, info),
  },
  Session: {
    skills: (session: SessionModel, _: unknown, ctx: Context) => ctx.loaders.skillsBySessionId.get(session.id),
  },
};
