import { Context } from '../context';
import { IdArgs } from '../common/id.inputs';
import { answerWith } from '../consistency/prime-after-write';
import { lockSession } from '../consistency/locks';
import { writeTransaction } from '../db/write-transaction';
import { forbidden } from '../errors';
import { validateInput } from '../validation';

/**
 * Hard-deletes a session, live or soft-deleted, with full cascade (messages, skill links, node
 * sync rows: `purgeDependents`) in one transaction; the purged audio objects leave the store
 * after commit. ADMIN only (FORBIDDEN); absent: NOT_FOUND.
 */
export async function purgeSession(ctx: Context, props: { id: string }): Promise<boolean> {
  if (!ctx.viewer.isAdmin) throw forbidden();
  const { id } = await validateInput(IdArgs, props, '');
  await writeTransaction(ctx, async (manager) => {
    const { session } = await lockSession(manager, ctx.viewer, id, 'any');
    await manager.remove(session);
  });
  answerWith(ctx.loaders, {});
  return true;
}
