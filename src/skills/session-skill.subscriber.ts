import { EntitySubscriberInterface, EventSubscriber, InsertEvent, RemoveEvent } from 'typeorm';
import { inBatch } from '../db/event-batch';
import { touchSessions } from '../sessions/session.subscriber';
import { SessionSkill } from './session-skill.entity';

/** A session's skills are part of the session: attaching or detaching one moves its `updatedAt`. */
@EventSubscriber()
export class SessionSkillSubscriber implements EntitySubscriberInterface<SessionSkill> {
  listenTo() {
    return SessionSkill;
  }

  afterInsert(event: InsertEvent<SessionSkill>): Promise<void> {
    const { sessionId } = event.entity;
    return inBatch(event.queryRunner, 'session-skill:touch', sessionId, sessionId, (ids) => touchSessions(event.manager, ids));
  }

  afterRemove(event: RemoveEvent<SessionSkill>): Promise<void> {
    const sessionId = event.databaseEntity?.sessionId ?? event.entity?.sessionId ?? (event.entityId as { sessionId?: string })?.sessionId;
    if (!sessionId) throw new Error('A skill link removal reached the subscriber without its session id');
    return inBatch(event.queryRunner, 'session-skill:touch', sessionId, sessionId, (ids) => touchSessions(event.manager, ids));
  }
}
