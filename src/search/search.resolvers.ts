import { Resolvers } from '../generated/resolvers-types';
import { searchMessages } from './search-messages';

/** Full-text search (read API). */
export const searchResolvers: Resolvers = {
  Query: {
    searchMessages: (_, args, ctx, info) => searchMessages(ctx, args, info),
  },
};
