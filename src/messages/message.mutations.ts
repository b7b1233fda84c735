import { Resolvers } from '../generated/resolvers-types';
import { Context } from '../context';
import { deleteMessage } from './delete-message';
import { postMessage } from './post-message';

/** Mutations of this feature (write API). */
export const messageMutations: Resolvers = {
  Mutation: {
    postMessage: (_: unknown, args: { input: Record<string, unknown> }, ctx: Context) => postMessage(ctx, args.input),
    deleteMessage: (_: unknown, args: { id: string }, ctx: Context) => deleteMessage(ctx, args),
  },
};
