import { Check, Column, CreateDateColumn, DeleteDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { SchemaEnum } from '../common/schema-enum';
import { CascadingParent, timestamp } from '../db/columns';
import type { MessageRole as SchemaMessageRole } from '../generated/resolvers-types';
import { Session } from '../sessions/session.entity';

/** The schema's `MessageRole`, stored as the database enum `message_role` (see SchemaEnum). */
export const MessageRole = { USER: 'USER', ASSISTANT: 'ASSISTANT', SYSTEM: 'SYSTEM', TOOL: 'TOOL' } as const satisfies SchemaEnum<SchemaMessageRole>;
export type MessageRole = SchemaMessageRole;

/** One turn of a session. Audio is a storage-neutral object key plus its content type and
 * size: where the bytes live (disk, object storage) is the storage driver's business. */
@Entity('messages')
@Index('messages_session_id_created_at_id_idx', ['sessionId', 'createdAt', 'id'])
@Index('messages_live_session_id_created_at_id_idx', ['sessionId', 'createdAt', 'id'], { where: 'deleted_at IS NULL' })
// Purges remove an audio object only when no other message still points to its key.
@Index('messages_audio_key_idx', ['audioKey'], { where: 'audio_key IS NOT NULL' })
@Check(
  'messages_audio_complete',
  `(audio_key IS NULL) = (audio_content_type IS NULL) AND (audio_key IS NULL) = (audio_byte_size IS NULL)`,
)
export class Message {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'messages_pkey' })
  id: string;

  @Column({ name: 'session_id', type: 'uuid' })
  sessionId: string;

  @CascadingParent(() => Session, 'session_id', 'messages_session_id_fkey')
  session?: Session;

  @Column({ type: 'enum', enum: MessageRole, enumName: 'message_role' })
  role: MessageRole;

  @Column({ type: 'text' })
  content: string;

  @Column({ name: 'audio_key', type: 'varchar', length: 512, nullable: true })
  audioKey: string | null;

  @Column({ name: 'audio_content_type', type: 'varchar', length: 127, nullable: true })
  audioContentType: string | null;

  @Column({ name: 'audio_byte_size', type: 'integer', nullable: true })
  audioByteSize: number | null;

  @CreateDateColumn(timestamp('created_at'))
  createdAt: Date;

  @DeleteDateColumn(timestamp('deleted_at', { nullable: true }))
  deletedAt: Date | null;
}
