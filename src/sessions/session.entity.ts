import {
  Column,
  CreateDateColumn,
  DeleteDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { CascadingParent, timestamp } from '../db/columns';
import { User } from '../users/user.entity';

/** One chat thread owned by a user. `isSyncing` is derived from its node sync rows and
 * kept as a real column, so "which sessions are syncing" is an index scan. */
@Entity('sessions')
@Index('sessions_created_at_id_idx', ['createdAt', 'id'])
@Index('sessions_updated_at_id_idx', ['updatedAt', 'id'])
@Index('sessions_user_id_created_at_id_idx', ['userId', 'createdAt', 'id'])
@Index('sessions_user_id_updated_at_id_idx', ['userId', 'updatedAt', 'id'])
@Index('sessions_syncing_created_at_id_idx', ['createdAt', 'id'], { where: 'is_syncing' })
@Index('sessions_deleted_at_idx', ['deletedAt'], { where: 'deleted_at IS NOT NULL' })
// Full-text search on titles: a GIN index on an expression (migration SearchEscapedText).
@Index('sessions_title_text_search_idx', { synchronize: false })
export class Session {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'sessions_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @CascadingParent(() => User, 'user_id', 'sessions_user_id_fkey')
  owner?: User;

  @Column({ type: 'varchar', length: 200 })
  title: string;

  @Column({ name: 'is_syncing', type: 'boolean', default: false })
  isSyncing: boolean;

  /** Bumped by title edits only (optimistic locking for `updateSession`); messages, skill
   * links and sync reports do not make a client's pending edit stale. */
  @Column({ type: 'integer', default: 1 })
  version: number;

  @CreateDateColumn(timestamp('created_at'))
  createdAt: Date;

  @UpdateDateColumn(timestamp('updated_at'))
  updatedAt: Date;

  @DeleteDateColumn(timestamp('deleted_at', { nullable: true }))
  deletedAt: Date | null;
}
