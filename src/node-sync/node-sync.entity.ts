import { Column, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { SchemaEnum } from '../common/schema-enum';
import { CascadingParent, timestamp } from '../db/columns';
import type { SyncStatus as SchemaSyncStatus } from '../generated/schema-types';
import { Session } from '../sessions/session.entity';

/** The schema's `SyncStatus`, stored as the database enum `sync_status` (see SchemaEnum). */
export const SyncStatus = { PENDING: 'PENDING', SYNCING: 'SYNCING', SYNCED: 'SYNCED', FAILED: 'FAILED' } as const satisfies SchemaEnum<SchemaSyncStatus>;
export type SyncStatus = SchemaSyncStatus;

/** Statuses during which a session counts as syncing. */
export const ACTIVE_SYNC_STATUSES: readonly SyncStatus[] = [SyncStatus.PENDING, SyncStatus.SYNCING];

/** The sync state of one session on one mesh node. */
@Entity('session_node_sync')
@Index('session_node_sync_node_id_idx', ['nodeId'])
export class NodeSync {
  @PrimaryColumn({ name: 'session_id', type: 'uuid', primaryKeyConstraintName: 'session_node_sync_pkey' })
  sessionId: string;

  @PrimaryColumn({ name: 'node_id', type: 'varchar', length: 128, primaryKeyConstraintName: 'session_node_sync_pkey' })
  nodeId: string;

  @CascadingParent(() => Session, 'session_id', 'session_node_sync_session_id_fkey')
  session?: Session;

  @Column({ type: 'enum', enum: SyncStatus, enumName: 'sync_status' })
  status: SyncStatus;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @UpdateDateColumn(timestamp('updated_at'))
  updatedAt: Date;
}
