import { EntitySubscriberInterface, EventSubscriber, RemoveEvent } from 'typeorm';
import { purgeSessionsOfUsers } from '../consistency/cascades';
import { eventKey, inBatch } from '../db/event-batch';
import { User } from './user.entity';

/**
 * Removing users removes everything they own first (`purgeSessionsOfUsers`): however many users
 * one `remove` takes, that is a handful of set-based statements in the caller's transaction.
 */
@EventSubscriber()
export class UserSubscriber implements EntitySubscriberInterface<User> {
  listenTo() {
    return User;
  }

  beforeRemove(event: RemoveEvent<User>): Promise<void> {
    const id = eventKey(event, 'id', 'A user removal reached the subscriber without an id');
    return inBatch(event.queryRunner, 'user:purge', id, id, (ids) => purgeSessionsOfUsers(event.manager, ids));
  }
}
