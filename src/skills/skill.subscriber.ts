import { EntityManager, EntitySubscriberInterface, EventSubscriber, QueryRunner, RemoveEvent, SoftRemoveEvent, UpdateEvent } from 'typeorm';
import { inBatch } from '../db/event-batch';
import { queryRows } from '../db/query-rows';
import { touchSessions } from '../sessions/session.subscriber';
import { Skill } from './skill.entity';

/**
 * A skill that leaves the catalogue (soft remove, or hard remove) loses all its session links,
 * set-based, and the sessions that had it change (`updatedAt` moves). Its name is then free.
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
    return this.unlink(event.queryRunner, event.manager, this.idOf(event));
  }

  beforeRemove(event: RemoveEvent<Skill>): Promise<void> {
    return this.unlink(event.queryRunner, event.manager, this.idOf(event));
  }

  private idOf(event: RemoveEvent<Skill>): string {
    const id = event.entity?.id ?? event.databaseEntity?.id ?? (event.entityId as { id?: string } | undefined)?.id;
    if (!id) throw new Error('A skill removal reached the subscriber without an id');
    return id;
  }

  private unlink(queryRunner: QueryRunner, manager: EntityManager, skillId: string): Promise<void> {
    return inBatch(queryRunner, 'skill:unlink', skillId, skillId, async (skillIds) => {
      const unlinked = await queryRows<{ session_id: string }>(
        manager,
        `DELETE FROM session_skills WHERE skill_id = ANY($1) RETURNING session_id`,
        [skillIds],
      );
      await touchSessions(manager, unlinked.map((r) => r.session_id));
    });
  }
}
