import { Resolvers } from '../generated/resolvers-types';
import { createUser } from './create-user';
import { deleteUsers } from './delete-users';

/** Mutations of this feature (write API). */
export const userMutations: Resolvers = {
  Mutation: {
    createUser: (_, args, ctx) => createUser(ctx.dataSource, args.input, ctx),
    deleteUsers: (_, args, ctx) => deleteUsers(ctx, args),
  },
};
