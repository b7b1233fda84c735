import { Context } from '../context';
import { IdArgs } from '../common/id.inputs';
import { answerWith } from '../consistency/prime-after-write';
import { lockSession } from '../consistency/locks';
import { writeTransaction } from '../db/write-transaction';
import { conflict } from '../errors';
import { validateInput } from '../validation';
import { Session } from './session.entity';

/**
 * Restores a soft-deleted session and exactly the messages deleted with it (those carrying its
 * `deletedAt` stamp); messages deleted on their own before stay deleted. One transaction under
 * the session's row lock. Absent or invisible: NOT_FOUND; not deleted: CONFLICT.
 */
export async function restoreSession(ctx: Context, props: { id: string }): Promise<Session> {
  const { id } = await validateInput(IdArgs, props, '');
  const written = await writeTransaction(ctx, async (manager) => {
    const locked = await lockSession(manager, ctx.viewer, id, 'any');
    if (!locked.session.deletedAt) throw conflict(`Session ${id} is not deleted`);
    await manager.recover(locked.session);
    return locked;
  });
  answerWith(ctx.loaders, written);
  return written.session;
}
