import { Resolvers } from '../generated/resolvers-types';
import { reportNodeSync } from './report-node-sync';

/** Mutations of this feature (write API). */
export const nodeSyncMutations: Resolvers = {
  Mutation: {
    reportNodeSync: (_, args, ctx) => reportNodeSync(ctx, args.input),
  },
};
