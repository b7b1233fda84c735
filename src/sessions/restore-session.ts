import { Context } from '../context';
import { IdArgs } from '../common/id.inputs';
import { clearLoaders, writeTransaction } from '../db/write-transaction';
import { conflict } from '../errors';
import { validateInput } from '../validation';
import { lockSession, reloadSession } from './lock-session';
import { Session } from './session.entity';

/**
 * Restores a soft-deleted session and exactly the messages deleted with it (those carrying its
 * `deletedAt` stamp); messages deleted on their own before stay deleted. One transaction under
 * the session's row lock. Absent or invisible: NOT_FOUND; not deleted: CONFLICT.
 */
export async function restoreSession(ctx: Context, props: { id: string }): Promise<Session> {
  const { id } = await validateInput(IdArgs, props, '');
  const session = await writeTransaction(ctx, async (manager) => {
    const current = await lockSession(manager, ctx.viewer, id, 'any');
    if (!current.deletedAt) throw conflict(`Session ${current.id} is not deleted`);
    await manager.recover(current);
    return reloadSession(manager, current.id);
  });
  clearLoaders(ctx.loaders);
  ctx.loaders.sessionById.prime(session.id, session);
  return session;
}
