import { EntitySubscriberInterface, EventSubscriber, RemoveEvent } from 'typeorm';
import { inBatch } from '../db/event-batch';
import { cascadeWrites } from '../db/guards';
import { Session } from '../sessions/session.entity';
import { purgeSessionDependents } from '../sessions/session.subscriber';
import { User } from './user.entity';

/**
 * Removing users removes everything they own first, set-based and in the caller's transaction:
 * their sessions are locked, then their messages, skill links, node sync rows and the sessions
 * themselves are deleted (purged audio is removed after commit). However many users one `remove`
 * takes, that is a handful of statements.
 */
@EventSubscriber()
export class UserSubscriber implements EntitySubscriberInterface<User> {
  listenTo() {
    return User;
  }

  beforeRemove(event: RemoveEvent<User>): Promise<void> {
    const id = event.entity?.id ?? event.databaseEntity?.id ?? (event.entityId as { id?: string } | undefined)?.id;
    if (!id) throw new Error('A user removal reached the subscriber without an id');
    return inBatch(event.queryRunner, 'user:purge', id, id, async (userIds) => {
      const sessions: { id: string }[] = await event.manager.query(
        `SELECT id FROM sessions WHERE user_id = ANY($1) ORDER BY id FOR UPDATE`,
        [userIds],
      );
      const sessionIds = sessions.map((s) => s.id);
      if (sessionIds.length === 0) return;
      await purgeSessionDependents(event.manager, event.queryRunner, sessionIds);
      await cascadeWrites(() =>
        event.manager.createQueryBuilder().delete().from(Session).where('id = ANY(:sessionIds)', { sessionIds }).callListeners(false).execute(),
      );
    });
  }
}
