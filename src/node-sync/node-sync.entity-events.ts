import { EntitySubscriberInterface, EventSubscriber, InsertEvent, RemoveEvent, UpdateEvent } from 'typeorm';
import { recomputeSyncing } from '../consistency/cascades';
import { inBatch } from '../db/event-batch';
import { NodeSync } from './node-sync.entity';

type NodeSyncEvent = InsertEvent<NodeSync> | UpdateEvent<NodeSync> | RemoveEvent<NodeSync>;

/**
 * Dispatches node sync writes to `recomputeSyncing` (src/consistency/cascades.ts), once per
 * statement for every session whose rows were inserted, changed or removed, so
 * `sessions.is_syncing` always equals its derivation.
 */
@EventSubscriber()
export class NodeSyncSubscriber implements EntitySubscriberInterface<NodeSync> {
  listenTo() {
    return NodeSync;
  }

  afterInsert(event: InsertEvent<NodeSync>): Promise<void> {
    return this.recompute(event);
  }

  beforeUpdate(event: UpdateEvent<NodeSync>): void {
    if (event.updatedColumns.some((c) => c.propertyName === 'sessionId' || c.propertyName === 'nodeId')) {
      throw new Error('A node sync row cannot move to another session or node');
    }
  }

  afterUpdate(event: UpdateEvent<NodeSync>): Promise<void> {
    return this.recompute(event);
  }

  afterRemove(event: RemoveEvent<NodeSync>): Promise<void> {
    return this.recompute(event);
  }

  private recompute(event: NodeSyncEvent): Promise<void> {
    const sessionId =
      (event.entity as Partial<NodeSync> | undefined)?.sessionId ??
      (event as { databaseEntity?: NodeSync }).databaseEntity?.sessionId ??
      ((event as { entityId?: unknown }).entityId as { sessionId?: string } | undefined)?.sessionId;
    if (!sessionId) throw new Error('A node sync write reached the subscriber without its session id');
    return inBatch(event.queryRunner, 'node-sync:recompute', sessionId, sessionId, (ids) => recomputeSyncing(event.manager, ids));
  }
}
