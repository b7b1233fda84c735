import { Context } from '../context';
import { IdArgs } from '../common/id.inputs';
import { answerWith } from '../consistency/prime-after-write';
import { lockSession } from '../consistency/locks';
import { writeTransaction } from '../db/write-transaction';
import { conflict } from '../errors';
import { validateInput } from '../validation';
import { Session } from './session.entity';

/**
 * Soft-deletes a session and, through the `stampMessages` cascade, its live messages with the
 * same `deletedAt` stamp (strictly later than any message deleted on its own, and no earlier
 * than any message it takes was created), in one transaction under the session's row lock.
 * Returns the deleted session. Absent or invisible: NOT_FOUND; already deleted: CONFLICT.
 */
export async function deleteSession(ctx: Context, props: { id: string }): Promise<Session> {
  const { id } = await validateInput(IdArgs, props, '');
  const written = await writeTransaction(ctx, async (manager) => {
    const locked = await lockSession(manager, ctx.viewer, id, 'any');
    if (locked.session.deletedAt) throw conflict(`Session ${id} is already deleted`);
    await manager.softRemove(locked.session);
    return locked;
  });
  answerWith(ctx.loaders, written);
  return written.session;
}
