import { Resolvers } from '../generated/resolvers-types';
import { Context } from '../context';
import { createSession } from './create-session';
import { deleteSession } from './delete-session';
import { purgeSession } from './purge-session';
import { restoreSession } from './restore-session';
import { updateSession } from './update-session';

/** Mutations of this feature (write API). */
export const sessionMutations: Resolvers = {
  Mutation: {
    createSession: (_: unknown, args: { input: unknown }, ctx: Context) => createSession(ctx, args.input),
    updateSession: (_: unknown, args: { id: string; input: unknown }, ctx: Context) => updateSession(ctx, args),
    deleteSession: (_: unknown, args: { id: string }, ctx: Context) => deleteSession(ctx, args),
    restoreSession: (_: unknown, args: { id: string }, ctx: Context) => restoreSession(ctx, args),
    purgeSession: (_: unknown, args: { id: string }, ctx: Context) => purgeSession(ctx, args),
  },
};
