import { GraphQLError } from 'graphql';
import { Context } from '../context';
import { IdArgs } from '../common/id.inputs';
import { clearLoaders, writeTransaction } from '../db/write-transaction';
import { conflict, ErrorCode, notFound } from '../errors';
import { lockSession } from '../sessions/lock-session';
import { sessionScope } from '../sessions/session.scope';
import { validateInput } from '../validation';
import { Message } from './message.entity';

/**
 * Soft-deletes one message of a live session the viewer may change and returns it; its stamp is
 * its own, so a later `restoreSession` leaves it deleted. The session is locked first (the order
 * every writer keeps), so this cannot interleave with deleting or restoring the session.
 * Absent, in a soft-deleted session, or invisible: NOT_FOUND; already deleted: CONFLICT.
 */
export async function deleteMessage(ctx: Context, props: { id: string }): Promise<Message> {
  const { id } = await validateInput(IdArgs, props, '');
  const message = await writeTransaction(ctx, async (manager) => {
    const scope = sessionScope(ctx.viewer, 's');
    const located = await manager
      .createQueryBuilder(Message, 'm')
      .withDeleted()
      .innerJoin('sessions', 's', 's.id = m.session_id')
      .where('m.id = :id', { id })
      .andWhere(scope.sql, scope.params)
      .getOne();
    if (!located) throw notFound('Message', id);
    // Its session was deleted meanwhile (or is deleted): the message is out of reach too.
    await lockSession(manager, ctx.viewer, located.sessionId, 'live').catch((error: unknown) => {
      throw error instanceof GraphQLError && error.extensions.code === ErrorCode.NOT_FOUND ? notFound('Message', id) : error;
    });
    const current = await manager.findOneOrFail(Message, { where: { id }, withDeleted: true, lock: { mode: 'pessimistic_write' } });
    if (current.deletedAt) throw conflict(`Message ${id} is already deleted`);
    await manager.softRemove(current);
    return manager.findOneOrFail(Message, { where: { id }, withDeleted: true });
  });
  clearLoaders(ctx.loaders);
  ctx.loaders.messageById.prime(message.id, message);
  return message;
}
