import { Resolvers } from '../generated/resolvers-types';
import { createAudioUpload } from './create-audio-upload';

/** Mutations of this feature (write API). */
export const audioUploadMutations: Resolvers = {
  Mutation: {
    createAudioUpload: (_, args, ctx) => createAudioUpload(ctx, args.input),
  },
};
