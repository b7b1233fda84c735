import { Context } from '../context';
import { IdArgs } from '../common/id.inputs';
import { answerWith } from '../consistency/prime-after-write';
import { lockSkills } from '../consistency/locks';
import { writeTransaction } from '../db/write-transaction';
import { forbidden } from '../errors';
import { validateInput } from '../validation';

/**
 * Removes a skill from the live catalogue (soft delete: its name becomes free again) and, through
 * the `unlinkSkills` cascade, all its session links, moving those sessions' `updatedAt`. ADMIN
 * only (FORBIDDEN); absent or already deleted: NOT_FOUND.
 */
export async function deleteSkill(ctx: Context, props: { id: string }): Promise<boolean> {
  if (!ctx.viewer.isAdmin) throw forbidden();
  const { id } = await validateInput(IdArgs, props, '');
  await writeTransaction(ctx, async (manager) => {
    const [skill] = await lockSkills(manager, [id], 'delete');
    await manager.softRemove(skill);
  });
  answerWith(ctx.loaders, {});
  return true;
}
