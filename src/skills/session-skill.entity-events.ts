import { EntitySubscriberInterface, EventSubscriber, InsertEvent, RemoveEvent } from 'typeorm';
import { touchSessions } from '../consistency/cascades';
import { eventKey, inBatch } from '../db/event-batch';
import { SessionSkill } from './session-skill.entity';

/** A session's skills are part of the session: attaching or detaching one moves its `updatedAt` (`touchSessions`). */
@EventSubscriber()
export class SessionSkillSubscriber implements EntitySubscriberInterface<SessionSkill> {
  listenTo() {
    return SessionSkill;
  }

  afterInsert(event: InsertEvent<SessionSkill>): Promise<void> {
    return this.touch(event, event.entity.sessionId);
  }

  afterRemove(event: RemoveEvent<SessionSkill>): Promise<void> {
    const sessionId = eventKey(event, 'sessionId', 'A skill link removal reached the subscriber without its session id');
    return this.touch(event, sessionId);
  }

  private touch(event: InsertEvent<SessionSkill> | RemoveEvent<SessionSkill>, sessionId: string): Promise<void> {
    return inBatch(event.queryRunner, 'session-skill:touch', sessionId, sessionId, async (ids) => {
      await touchSessions(event.manager, ids.map((id) => ({ id })));
    });
  }
}
