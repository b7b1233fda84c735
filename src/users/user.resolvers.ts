import { Context } from '../context';
import { isUuid } from '../ids';

export const userResolvers = {
  Query: {
    me: (_: unknown, __: unknown, ctx: Context) => ctx.loaders.userById.load(ctx.viewer.id),
    user: (_: unknown, args: { id: string }, ctx: Context) => (isUuid(args.id) ? ctx.loaders.userById.load(args.id) : null),
  },
};
