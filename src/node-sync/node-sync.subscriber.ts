import { EntityManager, EntitySubscriberInterface, EventSubscriber, InsertEvent, QueryRunner, RemoveEvent, UpdateEvent } from 'typeorm';
import { inBatch } from '../db/event-batch';
import { ACTIVE_SYNC_STATUSES, NodeSync } from './node-sync.entity';

/**
 * Recomputes `sessions.is_syncing` ("some node is PENDING or SYNCING") for the sessions whose
 * node sync rows a statement inserted, changed or removed, set-based and in the caller's
 * transaction, so the column always equals its derivation. Sync reports do not move a
 * session's `updatedAt` (see Session.updatedAt in the schema).
 */
export async function recomputeSyncing(manager: EntityManager, sessionIds: string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  await manager.query(
    `UPDATE sessions s SET is_syncing = d.syncing
     FROM (SELECT x.id, EXISTS (SELECT 1 FROM session_node_sync n
                                WHERE n.session_id = x.id AND n.status = ANY($2::sync_status[])) AS syncing
           FROM unnest($1::uuid[]) AS x(id)) d
     WHERE s.id = d.id AND s.is_syncing IS DISTINCT FROM d.syncing`,
    [[...new Set(sessionIds)], ACTIVE_SYNC_STATUSES],
  );
}

type NodeSyncEvent = { entity?: NodeSync | object; databaseEntity?: NodeSync; entityId?: unknown };

@EventSubscriber()
export class NodeSyncSubscriber implements EntitySubscriberInterface<NodeSync> {
  listenTo() {
    return NodeSync;
  }

  afterInsert(event: InsertEvent<NodeSync>): Promise<void> {
    return this.recompute(event.queryRunner, event.manager, event);
  }

  beforeUpdate(event: UpdateEvent<NodeSync>): void {
    if (event.updatedColumns.some((c) => c.propertyName === 'sessionId' || c.propertyName === 'nodeId')) {
      throw new Error('A node sync row cannot move to another session or node');
    }
  }

  afterUpdate(event: UpdateEvent<NodeSync>): Promise<void> {
    return this.recompute(event.queryRunner, event.manager, event);
  }

  afterRemove(event: RemoveEvent<NodeSync>): Promise<void> {
    return this.recompute(event.queryRunner, event.manager, event);
  }

  private recompute(queryRunner: QueryRunner, manager: EntityManager, event: NodeSyncEvent): Promise<void> {
    const sessionId =
      (event.entity as Partial<NodeSync> | undefined)?.sessionId ??
      event.databaseEntity?.sessionId ??
      (event.entityId as { sessionId?: string } | undefined)?.sessionId;
    if (!sessionId) throw new Error('A node sync write reached the subscriber without its session id');
    return inBatch(queryRunner, 'node-sync:recompute', sessionId, sessionId, (ids) => recomputeSyncing(manager, ids));
  }
}
