import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { CascadingParent, timestamp } from '../db/columns';
import { Message } from '../messages/message.entity';
import { Session } from '../sessions/session.entity';
import { User } from '../users/user.entity';

/**
 * One audio object a user was allowed to upload into a session: the server chose its key and
 * fixed its content type and size. It is completed when the bytes are in the store (the local
 * driver records it on the PUT; for object storage it is verified with a HEAD when attached),
 * and attached when a message of the same user and session took its key. Keys have an owner
 * this way: `postMessage` accepts a key only through its upload row.
 */
@Entity('audio_uploads')
@Index('audio_uploads_user_id_idx', ['userId'])
@Index('audio_uploads_session_id_idx', ['sessionId'])
// One upload per message; the garbage collector reads only the unattached ones, by expiry.
@Index('audio_uploads_message_id_key', ['messageId'], { unique: true })
@Index('audio_uploads_unattached_expires_at_idx', ['expiresAt'], { where: 'message_id IS NULL' })
@Check('audio_uploads_byte_size_positive', 'byte_size > 0')
export class AudioUpload {
  @PrimaryColumn({ type: 'varchar', length: 512, primaryKeyConstraintName: 'audio_uploads_pkey' })
  key: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @CascadingParent(() => User, 'user_id', 'audio_uploads_user_id_fkey')
  user?: User;

  @Column({ name: 'session_id', type: 'uuid' })
  sessionId: string;

  @CascadingParent(() => Session, 'session_id', 'audio_uploads_session_id_fkey')
  session?: Session;

  @Column({ name: 'content_type', type: 'varchar', length: 127 })
  contentType: string;

  @Column({ name: 'byte_size', type: 'integer' })
  byteSize: number;

  @CreateDateColumn(timestamp('created_at'))
  createdAt: Date;

  /** The upload URL's expiry, and the deadline for attaching: past it, an unattached upload is garbage. */
  @Column(timestamp('expires_at'))
  expiresAt: Date;

  @Column(timestamp('completed_at', { nullable: true }))
  completedAt: Date | null;

  @Column({ name: 'message_id', type: 'uuid', nullable: true })
  messageId: string | null;

  @CascadingParent(() => Message, 'message_id', 'audio_uploads_message_id_fkey', { nullable: true })
  message?: Message;
}
