import { Resolvers } from '../generated/resolvers-types';
import { Context } from '../context';
import { reportNodeSync } from './report-node-sync';

/** Mutations of this feature (write API). */
export const nodeSyncMutations: Resolvers = {
  Mutation: {
    reportNodeSync: (_: unknown, args: { input: unknown }, ctx: Context) => reportNodeSync(ctx, args.input),
  },
};
