import { Context } from '../context';
import { IdArgs } from '../common/id.inputs';
import { clearLoaders, writeTransaction } from '../db/write-transaction';
import { conflict } from '../errors';
import { validateInput } from '../validation';
import { lockSession, reloadSession } from './lock-session';
import { Session } from './session.entity';

/**
 * Soft-deletes a session and, through the session subscriber, its live messages with the same
 * `deletedAt` stamp (strictly later than any message deleted on its own), in one transaction
 * under the session's row lock. Returns the deleted session. Absent or invisible: NOT_FOUND;
 * already deleted: CONFLICT.
 */
export async function deleteSession(ctx: Context, props: { id: string }): Promise<Session> {
  const { id } = await validateInput(IdArgs, props, '');
  const session = await writeTransaction(ctx, async (manager) => {
    const current = await lockSession(manager, ctx.viewer, id, 'any');
    if (current.deletedAt) throw conflict(`Session ${current.id} is already deleted`);
    await manager.softRemove(current);
    return reloadSession(manager, current.id);
  });
  clearLoaders(ctx.loaders);
  ctx.loaders.sessionById.prime(session.id, session);
  return session;
}
