import { Resolvers } from '../generated/resolvers-types';
import { Context } from '../context';
import { createAudioUpload } from './create-audio-upload';

/** Mutations of this feature (write API). */
export const audioUploadMutations: Resolvers = {
  Mutation: {
    createAudioUpload: (_: unknown, args: { input: Record<string, unknown> }, ctx: Context) => createAudioUpload(ctx, args.input),
  },
};
