import { EntityManager, EntitySubscriberInterface, EventSubscriber, QueryRunner, RemoveEvent } from 'typeorm';
import { inBatch } from '../db/event-batch';
import { queryRows } from '../db/query-rows';
import { Message } from '../messages/message.entity';
import { Session } from '../sessions/session.entity';
import { removeAudioAfterCommit } from '../storage/audio-cleanup';
import { User } from '../users/user.entity';

/** Which upload rows go with the removed rows of each parent entity (`$1`: their ids). */
const DEPENDENTS = new Map<Function, { name: string; where: string; lockSessions?: string }>([
  [
    User,
    {
      name: 'audio-upload:user',
      // The users' sessions are locked first, in id order, as every writer locks sessions
      // before the upload rows in them (postMessage), so the two never deadlock.
      lockSessions: `SELECT id FROM sessions WHERE user_id = ANY($1) ORDER BY id FOR UPDATE`,
      where: `u.user_id = ANY($1) OR u.session_id IN (SELECT id FROM sessions WHERE user_id = ANY($1))`,
    },
  ],
  [Session, { name: 'audio-upload:session', where: `u.session_id = ANY($1)` }],
  [Message, { name: 'audio-upload:message', where: `u.message_id = ANY($1)` }],
]);

function idOf(event: RemoveEvent<any>): string {
  const id = event.entity?.id ?? event.databaseEntity?.id ?? (event.entityId as { id?: string } | undefined)?.id;
  if (!id) throw new Error(`A ${event.metadata.name} removal reached the audio upload subscriber without an id`);
  return id;
}

/**
 * Upload rows have no life of their own: removing a user, a session or a message removes the
 * uploads that belong to it in the same transaction, set-based, before the parent rows go (so no
 * path relies on the foreign keys alone and none leaves an upload pointing nowhere). Objects of
 * uploads that were never attached are scheduled for removal after commit; attached ones leave
 * with their message (the message and session subscribers' purge), and an object any remaining
 * message still names is never removed.
 */
@EventSubscriber()
export class AudioUploadSubscriber implements EntitySubscriberInterface {
  beforeRemove(event: RemoveEvent<any>): Promise<void> | void {
    const dependents = DEPENDENTS.get(event.metadata.target as Function);
    if (!dependents) return;
    const id = idOf(event);
    return inBatch(event.queryRunner, dependents.name, id, id, (ids) => removeUploads(event.manager, event.queryRunner, ids, dependents));
  }
}

async function removeUploads(
  manager: EntityManager,
  queryRunner: QueryRunner,
  ids: string[],
  dependents: { where: string; lockSessions?: string },
): Promise<void> {
  if (dependents.lockSessions) await manager.query(dependents.lockSessions, [ids]);
  // One statement: the removed rows, and of their keys those no message names (never attached).
  const unattached = await queryRows<{ key: string }>(
    manager,
    `WITH removed AS (DELETE FROM audio_uploads u WHERE (${dependents.where}) RETURNING u.key)
     SELECT r.key FROM removed r WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.audio_key = r.key)`,
    [ids],
  );
  removeAudioAfterCommit(queryRunner, unattached.map((r) => r.key));
}
