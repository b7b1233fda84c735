import { Resolvers } from '../generated/resolvers-types';
import { Context } from '../context';
import { attachSkills } from './attach-skills';
import { createSkill } from './create-skill';
import { deleteSkill } from './delete-skill';
import { detachSkills } from './detach-skills';

/** Mutations of this feature (write API). */
export const skillMutations: Resolvers = {
  Mutation: {
    createSkill: (_: unknown, args: { input: unknown }, ctx: Context) => createSkill(ctx, args.input),
    deleteSkill: (_: unknown, args: { id: string }, ctx: Context) => deleteSkill(ctx, args),
    attachSkills: (_: unknown, args: { sessionId: string; skillIds: string[] }, ctx: Context) => attachSkills(ctx, args),
    detachSkills: (_: unknown, args: { sessionId: string; skillIds: string[] }, ctx: Context) => detachSkills(ctx, args),
  },
};
