import { EntitySubscriberInterface, EventSubscriber, InsertEvent, RecoverEvent, RemoveEvent, SoftRemoveEvent, UpdateEvent } from 'typeorm';
import { purgeDependents, restoreStampedMessages, SessionChange, stampMessages, touchSessions } from '../consistency/cascades';
import { eventKey, inBatch } from '../db/event-batch';
import { Session } from './session.entity';

type SessionEvent = { entity?: Session | Partial<Session> | object; databaseEntity?: Session; entityId?: unknown };

function changeOf(event: SessionEvent): SessionChange {
  const id = eventKey(event, 'id', 'A session write reached the subscriber without an id');
  return { id, entity: event.entity as Session | undefined, previous: event.databaseEntity?.updatedAt ?? null };
}

/**
 * Dispatches writes to sessions to their cascades (src/consistency/cascades.ts), one set per
 * statement: a soft delete stamps the live messages, a restore brings back the stamped ones, a
 * purge removes the dependents, and every change moves `updatedAt` forward. `isSyncing` and
 * `deletedAt` are never written through `save` (derived, or with their own paths).
 */
@EventSubscriber()
export class SessionSubscriber implements EntitySubscriberInterface<Session> {
  listenTo() {
    return Session;
  }

  beforeInsert(event: InsertEvent<Session>): void {
    if (event.entity.isSyncing) {
      throw new Error('Session.isSyncing is derived from its node sync rows; report node sync instead of setting it');
    }
  }

  beforeUpdate(event: UpdateEvent<Session>): void {
    const changed = new Set(event.updatedColumns.map((c) => c.propertyName));
    if (changed.has('deletedAt')) throw new Error('Session.deletedAt changes only through softRemove/recover');
    if (changed.has('isSyncing')) throw new Error('Session.isSyncing is derived from its node sync rows');
    if (changed.has('userId')) throw new Error('A session cannot change owner');
  }

  afterUpdate(event: UpdateEvent<Session>): Promise<void> {
    const change = changeOf(event);
    return inBatch(event.queryRunner, 'session:touch', change.id, change, (changes) => touchSessions(event.manager, changes).then(() => undefined));
  }

  afterSoftRemove(event: SoftRemoveEvent<Session>): Promise<void> {
    const change = changeOf(event);
    return inBatch(event.queryRunner, 'session:stamp', change.id, change, (changes) => stampMessages(event.manager, changes));
  }

  beforeRecover(event: RecoverEvent<Session>): Promise<void> {
    const { id } = changeOf(event);
    return inBatch(event.queryRunner, 'session:restore', id, id, (ids) => restoreStampedMessages(event.manager, ids));
  }

  afterRecover(event: RecoverEvent<Session>): Promise<void> {
    const change = changeOf(event);
    return inBatch(event.queryRunner, 'session:touch', change.id, change, (changes) => touchSessions(event.manager, changes).then(() => undefined));
  }

  beforeRemove(event: RemoveEvent<Session>): Promise<void> {
    const { id } = changeOf(event);
    return inBatch(event.queryRunner, 'session:purge', id, id, (ids) => purgeDependents(event.manager, ids));
  }
}
