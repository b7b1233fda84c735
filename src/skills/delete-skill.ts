import { Context } from '../context';
import { IdArgs } from '../common/id.inputs';
import { clearLoaders, writeTransaction } from '../db/write-transaction';
import { forbidden, notFound } from '../errors';
import { validateInput } from '../validation';
import { Skill } from './skill.entity';

/**
 * Removes a skill from the live catalogue (soft delete: its name becomes free again) and, through
 * the skill subscriber, all its session links, moving those sessions' `updatedAt`. ADMIN only
 * (FORBIDDEN); absent or already deleted: NOT_FOUND.
 */
export async function deleteSkill(ctx: Context, props: { id: string }): Promise<boolean> {
  if (!ctx.viewer.isAdmin) throw forbidden();
  const { id } = await validateInput(IdArgs, props, '');
  await writeTransaction(ctx, async (manager) => {
    const skill = await manager.findOne(Skill, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!skill) throw notFound('Skill', id);
    await manager.softRemove(skill);
  });
  clearLoaders(ctx.loaders);
  return true;
}
