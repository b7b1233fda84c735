import { Resolvers } from '../generated/resolvers-types';
import { createSession } from './create-session';
import { deleteSession } from './delete-session';
import { purgeSession } from './purge-session';
import { restoreSession } from './restore-session';
import { updateSession } from './update-session';

/** Mutations of this feature (write API). */
export const sessionMutations: Resolvers = {
  Mutation: {
    createSession: (_, args, ctx) => createSession(ctx, args.input),
    updateSession: (_, args, ctx) => updateSession(ctx, args),
    deleteSession: (_, args, ctx) => deleteSession(ctx, args),
    restoreSession: (_, args, ctx) => restoreSession(ctx, args),
    purgeSession: (_, args, ctx) => purgeSession(ctx, args),
  },
};
