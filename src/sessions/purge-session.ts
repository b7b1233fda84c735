import { Context } from '../context';
import { IdArgs } from '../common/id.inputs';
import { clearLoaders, writeTransaction } from '../db/write-transaction';
import { forbidden } from '../errors';
import { validateInput } from '../validation';
import { lockSession } from './lock-session';

/**
 * Hard-deletes a session, live or soft-deleted, with full cascade (messages, skill links, node
 * sync rows, by the session subscriber) in one transaction; the purged audio objects leave the
 * store after commit. ADMIN only (FORBIDDEN); absent: NOT_FOUND.
 */
export async function purgeSession(ctx: Context, props: { id: string }): Promise<boolean> {
  if (!ctx.viewer.isAdmin) throw forbidden();
  const { id } = await validateInput(IdArgs, props, '');
  await writeTransaction(ctx, async (manager) => {
    const session = await lockSession(manager, ctx.viewer, id, 'any');
    await manager.remove(session);
  });
  clearLoaders(ctx.loaders);
  return true;
}
