import type { Resolvers } from '../generated/resolvers-types';
import { activity, nodeSyncSummary } from './read-activity';

/** Dashboards' aggregates (read API). */
export const activityResolvers: Resolvers = {
  Query: {
    activity: (_, args, ctx) => activity(ctx, args),
    nodeSyncSummary: (_, args, ctx) => nodeSyncSummary(ctx, args.filter),
  },
};
