import { EntitySubscriberInterface, EventSubscriber, InsertEvent, QueryRunner, EntityManager, RecoverEvent, RemoveEvent, SoftRemoveEvent, UpdateEvent } from 'typeorm';
import { messageCreatedAt, removeUnreferencedAudio, stampMessagesOfDeletedSessions, touchSessions } from '../consistency/cascades';
import { inBatch } from '../db/event-batch';
import { Message } from './message.entity';

type MessageEvent = { entity?: Message | object; databaseEntity?: Message; entityId?: unknown };

function messageOf(event: MessageEvent): { id?: string; sessionId: string; audioKey: string | null } {
  const entity = event.entity as Partial<Message> | undefined;
  const sessionId = entity?.sessionId ?? event.databaseEntity?.sessionId;
  if (!sessionId) throw new Error('A message write reached the subscriber without its session id');
  return {
    id: entity?.id ?? event.databaseEntity?.id ?? (event.entityId as { id?: string } | undefined)?.id,
    sessionId,
    audioKey: event.databaseEntity?.audioKey ?? entity?.audioKey ?? null,
  };
}

/**
 * Dispatches writes to messages to their cascades (src/consistency/cascades.ts): a new message
 * is stamped with its session's next time (`messageCreatedAt`); every new,
 * changed, deleted or restored message moves its session's `updatedAt`; a message inserted into
 * a soft-deleted session is deleted with it; one cannot be recovered there; a hard-removed
 * message's audio leaves the store after commit when no other message uses it.
 */
@EventSubscriber()
export class MessageSubscriber implements EntitySubscriberInterface<Message> {
  listenTo() {
    return Message;
  }

  beforeInsert(event: InsertEvent<Message>): void {
    const message = event.entity;
    // Stamped in the INSERT, under the session's lock: within a session, time order is commit order.
    if (message.createdAt === undefined) (message as { createdAt: unknown }).createdAt = messageCreatedAt(message.sessionId);
  }

  afterInsert(event: InsertEvent<Message>): Promise<void> {
    const message = event.entity;
    return inBatch(event.queryRunner, 'message:insert', message.id, message, async (messages) => {
      const sessions = await touchSessions(event.manager, messages.map((m) => ({ id: m.sessionId })));
      const deleted = new Set(sessions.filter((s) => s.deleted_at !== null).map((s) => s.id));
      await stampMessagesOfDeletedSessions(event.manager, messages.filter((m) => deleted.has(m.sessionId)));
    });
  }

  beforeUpdate(event: UpdateEvent<Message>): void {
    const changed = new Set(event.updatedColumns.map((c) => c.propertyName));
    if (changed.has('deletedAt')) throw new Error('Message.deletedAt changes only through softRemove/recover');
    if (changed.has('sessionId')) throw new Error('A message cannot move to another session');
  }

  afterUpdate(event: UpdateEvent<Message>): Promise<void> {
    return this.touch(event.queryRunner, event.manager, messageOf(event).sessionId);
  }

  afterSoftRemove(event: SoftRemoveEvent<Message>): Promise<void> {
    return this.touch(event.queryRunner, event.manager, messageOf(event).sessionId);
  }

  async beforeRecover(event: RecoverEvent<Message>): Promise<void> {
    const [session] = await event.manager.query(`SELECT deleted_at FROM sessions WHERE id = $1`, [messageOf(event).sessionId]);
    if (session?.deleted_at) throw new Error('A message of a soft-deleted session comes back only with restoreSession');
  }

  afterRecover(event: RecoverEvent<Message>): Promise<void> {
    return this.touch(event.queryRunner, event.manager, messageOf(event).sessionId);
  }

  afterRemove(event: RemoveEvent<Message>): Promise<void> {
    const message = messageOf(event);
    const key = `${message.sessionId}:${message.id ?? Math.random()}`;
    return inBatch(event.queryRunner, 'message:remove', key, message, async (messages) => {
      await touchSessions(event.manager, messages.map((m) => ({ id: m.sessionId })));
      await removeUnreferencedAudio(event.manager, messages.map((m) => m.audioKey).filter((k): k is string => !!k));
    });
  }

  private touch(queryRunner: QueryRunner, manager: EntityManager, sessionId: string): Promise<void> {
    return inBatch(queryRunner, 'message:touch', sessionId, sessionId, async (ids) => {
      await touchSessions(manager, ids.map((id) => ({ id })));
    });
  }
}
