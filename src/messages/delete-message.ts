import { Context } from '../context';
import { IdArgs } from '../common/id.inputs';
import { answerWith } from '../consistency/prime-after-write';
import { lockMessage } from '../consistency/locks';
import { writeTransaction } from '../db/write-transaction';
import { conflict } from '../errors';
import { validateInput } from '../validation';
import { Message } from './message.entity';

/**
 * Soft-deletes one message of a live session the viewer may change and returns it; its stamp is
 * its own, so a later `restoreSession` leaves it deleted. Its session and then the message are
 * locked in one statement (the lock order), so this cannot interleave with deleting or
 * restoring the session. Absent, in a soft-deleted session, or invisible: NOT_FOUND; already
 * deleted: CONFLICT.
 */
export async function deleteMessage(ctx: Context, props: { id: string }): Promise<Message> {
  const { id } = await validateInput(IdArgs, props, '');
  const written = await writeTransaction(ctx, async (manager) => {
    const locked = await lockMessage(manager, ctx.viewer, id);
    if (locked.message.deletedAt) throw conflict(`Message ${id} is already deleted`);
    await manager.softRemove(locked.message);
    return locked;
  });
  answerWith(ctx.loaders, written);
  return written.message;
}
