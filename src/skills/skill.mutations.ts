import { Resolvers } from '../generated/resolvers-types';
import { attachSkills } from './attach-skills';
import { createSkill } from './create-skill';
import { deleteSkill } from './delete-skill';
import { detachSkills } from './detach-skills';

/** Mutations of this feature (write API). */
export const skillMutations: Resolvers = {
  Mutation: {
    createSkill: (_, args, ctx) => createSkill(ctx, args.input),
    deleteSkill: (_, args, ctx) => deleteSkill(ctx, args),
    attachSkills: (_, args, ctx) => attachSkills(ctx, args),
    detachSkills: (_, args, ctx) => detachSkills(ctx, args),
  },
};
