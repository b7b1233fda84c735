import { Resolvers } from '../generated/resolvers-types';
import { parseId } from '../ids';
import { listSkills } from './list-skills';
import { skillPropertiesOf } from './skill.columns';

/** Queries and type fields of this feature (read API). */
export const skillResolvers: Resolvers = {
  Query: {
    skill: (_, args, ctx) => ctx.loaders.skillById.load(parseId(args.id)),
    skills: (_, args, ctx, info) =>
      listSkills(ctx, args, info),
  },
  Session: {
    skills: (session, _, ctx, info) => ctx.loaders.skillsBySessionId.getFor(session.id, skillPropertiesOf(info.fieldNodes, info.fragments)),
  },
};
