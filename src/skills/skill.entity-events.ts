import { EntitySubscriberInterface, EventSubscriber, RemoveEvent, SoftRemoveEvent, UpdateEvent } from 'typeorm';
import { unlinkSkills } from '../consistency/cascades';
import { eventKey, inBatch } from '../db/event-batch';
import { Skill } from './skill.entity';

/**
 * A skill that leaves the catalogue (soft remove, or hard remove) loses all its session links
 * and the sessions that had it change (`unlinkSkills`). Its name is then free.
 */
@EventSubscriber()
export class SkillSubscriber implements EntitySubscriberInterface<Skill> {
  listenTo() {
    return Skill;
  }

  beforeUpdate(event: UpdateEvent<Skill>): void {
    if (event.updatedColumns.some((c) => c.propertyName === 'deletedAt')) {
      throw new Error('Skill.deletedAt changes only through softRemove/recover');
    }
  }

  afterSoftRemove(event: SoftRemoveEvent<Skill>): Promise<void> {
    return this.unlink(event);
  }

  beforeRemove(event: RemoveEvent<Skill>): Promise<void> {
    return this.unlink(event);
  }

  private unlink(event: RemoveEvent<Skill>): Promise<void> {
    const id = eventKey(event, 'id', 'A skill removal reached the subscriber without an id');
    return inBatch(event.queryRunner, 'skill:unlink', id, id, (ids) => unlinkSkills(event.manager, ids));
  }
}
