import { EntitySubscriberInterface, EventSubscriber, RemoveEvent } from 'typeorm';
import { removeUploadsOf } from '../consistency/cascades';
import { inBatch } from '../db/event-batch';
import { Message } from '../messages/message.entity';
import { Session } from '../sessions/session.entity';
import { User } from '../users/user.entity';

/** The parent entities whose removal takes their upload rows along. */
const PARENTS = new Map<Function, 'user' | 'session' | 'message'>([
  [User, 'user'],
  [Session, 'session'],
  [Message, 'message'],
]);

function idOf(event: RemoveEvent<any>): string {
  const id = event.entity?.id ?? event.databaseEntity?.id ?? (event.entityId as { id?: string } | undefined)?.id;
  if (!id) throw new Error(`A ${event.metadata.name} removal reached the audio upload subscriber without an id`);
  return id;
}

/**
 * Dispatches the removal of users, sessions and messages to `removeUploadsOf`
 * (src/consistency/cascades.ts): their upload rows go in the same transaction, set-based, before
 * the parent rows.
 */
@EventSubscriber()
export class AudioUploadSubscriber implements EntitySubscriberInterface {
  beforeRemove(event: RemoveEvent<any>): Promise<void> | void {
    const parent = PARENTS.get(event.metadata.target as Function);
    if (!parent) return;
    const id = idOf(event);
    return inBatch(event.queryRunner, `audio-upload:${parent}`, id, id, (ids) => removeUploadsOf(event.manager, parent, ids));
  }
}
