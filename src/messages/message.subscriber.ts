import {
  EntityManager,
  EntitySubscriberInterface,
  EventSubscriber,
  InsertEvent,
  QueryRunner,
  RecoverEvent,
  RemoveEvent,
  SoftRemoveEvent,
  UpdateEvent,
} from 'typeorm';
import { inBatch } from '../db/event-batch';
import { queryRows } from '../db/query-rows';
import { touchSessions, unreferencedAudio } from '../sessions/session.subscriber';
import { removeAudioAfterCommit } from '../storage/audio-cleanup';
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
 * Owns what follows from writes to messages, inside the caller's transaction: every new, changed,
 * deleted or restored message moves its session's `updatedAt`; a message never lives in a
 * soft-deleted session (one inserted there is stamped with the session's `deletedAt`, one cannot
 * be recovered there); a hard-removed message's audio is removed from the store after commit.
 */
@EventSubscriber()
export class MessageSubscriber implements EntitySubscriberInterface<Message> {
  listenTo() {
    return Message;
  }

  afterInsert(event: InsertEvent<Message>): Promise<void> {
    const message = event.entity;
    return inBatch(event.queryRunner, 'message:insert', message.id, message, async (messages) => {
      const sessionIds = [...new Set(messages.map((m) => m.sessionId))];
      await touchSessions(event.manager, sessionIds);
      const stamped = await queryRows<{ id: string; deleted_at: Date }>(
        event.manager,
        `UPDATE messages m SET deleted_at = s.deleted_at
         FROM sessions s
         WHERE m.id = ANY($1) AND s.id = m.session_id AND s.deleted_at IS NOT NULL AND m.deleted_at IS NULL
         RETURNING m.id, m.deleted_at`,
        [messages.map((m) => m.id)],
      );
      const byId = new Map(stamped.map((r) => [r.id, r.deleted_at]));
      for (const m of messages) if (byId.has(m.id)) m.deletedAt = byId.get(m.id)!;
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
      await touchSessions(event.manager, messages.map((m) => m.sessionId));
      const keys = messages.map((m) => m.audioKey).filter((k): k is string => !!k);
      removeAudioAfterCommit(event.queryRunner, await unreferencedAudio(event.manager, [...new Set(keys)]));
    });
  }

  private touch(queryRunner: QueryRunner, manager: EntityManager, sessionId: string): Promise<void> {
    return inBatch(queryRunner, 'message:touch', sessionId, sessionId, (ids) => touchSessions(manager, ids));
  }
}
