import { Resolvers } from '../generated/resolvers-types';
import { Context } from '../context';
import { createUser } from './create-user';
import { deleteUsers } from './delete-users';

/** Mutations of this feature (write API). */
export const userMutations: Resolvers = {
  Mutation: {
    createUser: (_: unknown, args: { input: unknown }, ctx: Context) => createUser(ctx.dataSource, args.input, ctx),
    deleteUsers: (_: unknown, args: { ids: string[] }, ctx: Context) => deleteUsers(ctx, args),
  },
};
