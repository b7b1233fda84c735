import { Resolvers } from '../generated/resolvers-types';
import { appendMessageContent } from './append-message-content';
import { deleteMessage } from './delete-message';
import { finishMessage } from './finish-message';
import { postMessage } from './post-message';

/** Mutations of this feature (write API). */
export const messageMutations: Resolvers = {
  Mutation: {
    postMessage: (_, args, ctx) => postMessage(ctx, args.input),
    deleteMessage: (_, args, ctx) => deleteMessage(ctx, args),
    appendMessageContent: (_, args, ctx) => appendMessageContent(ctx, args),
    finishMessage: (_, args, ctx) => finishMessage(ctx, args),
  },
};
