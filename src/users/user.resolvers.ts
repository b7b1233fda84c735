import { Resolvers } from '../generated/resolvers-types';
import { parseId } from '../ids';
import { listUsers } from './list-users';

/** Queries and type fields of this feature (read API). */
export const userResolvers: Resolvers = {
  Query: {
    me: (_, __, ctx) => ctx.loaders.userById.load(ctx.viewer.id),
    /** A member sees only their own record: anyone else is null, as if absent. */
    user: (_, args, ctx) => ctx.loaders.userById.load(parseId(args.id)),
    users: (_, args, ctx, info) =>
      listUsers(ctx, args, info),
  },
};
