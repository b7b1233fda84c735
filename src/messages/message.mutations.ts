import { Resolvers } from '../generated/resolvers-types';
import { deleteMessage } from './delete-message';
import { postMessage } from './post-message';

/** Mutations of this feature (write API). */
export const messageMutations: Resolvers = {
  Mutation: {
    postMessage: (_, args, ctx) => postMessage(ctx, args.input),
    deleteMessage: (_, args, ctx) => deleteMessage(ctx, args),
  },
};
