import { Resolvers } from '../generated/resolvers-types';
import { GraphQLResolveInfo } from 'graphql';
import { Context } from '../context';
import { parseId } from '../ids';
import { PageArgs } from '../pagination/page-args';
import { listUsers } from './user.list';

/** Queries and type fields of this feature (read API). */
export const userResolvers: Resolvers = {
  Query: {
    me: (_: unknown, __: unknown, ctx: Context) => ctx.loaders.userById.load(ctx.viewer.id),
    /** A member sees only their own record: anyone else is null, as if absent. */
    user: (_: unknown, args: { id: string }, ctx: Context) => ctx.loaders.userById.load(parseId(args.id)),
    users: (_: unknown, args: PageArgs, ctx: Context, info: GraphQLResolveInfo) =>
      listUsers(ctx, args, info),
  },
};
