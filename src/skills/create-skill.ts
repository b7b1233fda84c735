import { Context } from '../context';
import { isUniqueViolation } from '../db/pg-errors';
import { clearLoaders, writeTransaction } from '../db/write-transaction';
import { conflict, forbidden } from '../errors';
import { validateInput } from '../validation';
import { Skill } from './skill.entity';
import { CreateSkillInput } from './skill.inputs';

/**
 * Adds a skill to the catalogue. ADMIN only (FORBIDDEN). Names are unique among live skills: a
 * name held by a live skill is CONFLICT (the partial unique index decides, so two concurrent
 * creators cannot both win); a deleted skill's name is free.
 */
export async function createSkill(ctx: Context, raw: unknown): Promise<Skill> {
  if (!ctx.viewer.isAdmin) throw forbidden();
  const input = await validateInput(CreateSkillInput, raw);
  const name = input.name;
  const skill = await writeTransaction(ctx, async (manager) => {
    try {
      return await manager.save(manager.create(Skill, { name, description: input.description || null }));
    } catch (error) {
      if (isUniqueViolation(error, 'skills_name_live_key')) throw conflict(`A skill named "${name}" already exists`);
      throw error;
    }
  });
  clearLoaders(ctx.loaders);
  ctx.loaders.skillById.prime(skill.id, skill);
  return skill;
}
