import { Check, Column, CreateDateColumn, DeleteDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { SchemaEnum } from '../common/schema-enum';
import { CascadingParent, timestamp } from '../db/columns';
import type { MessageRole as SchemaMessageRole, MessageStatus as SchemaMessageStatus } from '../generated/schema-types';
import { Session } from '../sessions/session.entity';

/** The schema's `MessageRole`, stored as the database enum `message_role` (see SchemaEnum). */
export const MessageRole = { USER: 'USER', ASSISTANT: 'ASSISTANT', SYSTEM: 'SYSTEM', TOOL: 'TOOL' } as const satisfies SchemaEnum<SchemaMessageRole>;
export type MessageRole = SchemaMessageRole;

/** The schema's `MessageStatus`, stored as the database enum `message_status`. */
export const MessageStatus = { STREAMING: 'STREAMING', COMPLETE: 'COMPLETE', FAILED: 'FAILED' } as const satisfies SchemaEnum<SchemaMessageStatus>;
export type MessageStatus = SchemaMessageStatus;

/** One turn of a session. Audio is a storage-neutral object key plus its content type and
 * size: where the bytes live (disk, object storage) is the storage driver's business. */
@Entity('messages')
@Index('messages_session_id_created_at_id_idx', ['sessionId', 'createdAt', 'id'])
@Index('messages_live_session_id_created_at_id_idx', ['sessionId', 'createdAt', 'id'], { where: 'deleted_at IS NULL' })
// Purges remove an audio object only when no other message still points to its key.
@Index('messages_audio_key_idx', ['audioKey'], { where: 'audio_key IS NOT NULL' })
// Full-text search: a GIN index on the stored vector (migration MessageSearchVector); TypeORM cannot state it.
@Index('messages_search_vector_idx', { synchronize: false })
// Activity over a time range reads messages by time, across sessions.
@Index('messages_created_at_idx', ['createdAt'])
// The session's message clock reads the newest append or finish (migration StreamedMessages).
@Index('messages_session_id_changed_at_idx', ['sessionId', 'changedAt'], { where: 'changed_at IS NOT NULL' })
// The stream sweep finds the few messages still being written.
@Index('messages_streaming_idx', ['sessionId'], { where: `status = 'STREAMING'` })
@Check('messages_usage_complete', `(input_tokens IS NULL) = (output_tokens IS NULL) AND (model IS NULL OR input_tokens IS NOT NULL)`)
@Check('messages_usage_non_negative', `input_tokens >= 0 AND output_tokens >= 0`)
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

  /** STREAMING while `appendMessageContent` writes it, until `finishMessage` (or the stream sweep) ends it. */
  @Column({ type: 'enum', enum: MessageStatus, enumName: 'message_status', default: MessageStatus.COMPLETE })
  status: MessageStatus;

  /** Token usage reported for the message (`TokenUsage`): the two counts are null together; a model only with them. */
  @Column({ name: 'input_tokens', type: 'integer', nullable: true })
  inputTokens: number | null;

  @Column({ name: 'output_tokens', type: 'integer', nullable: true })
  outputTokens: number | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  model: string | null;

  /** The last append or finish, stamped from the session's message clock (its place in
   * `messageChanged`'s commit order); null while never changed after it was posted. */
  @Column(timestamp('changed_at', { nullable: true }))
  changedAt: Date | null;

  @CreateDateColumn(timestamp('created_at'))
  createdAt: Date;

  @DeleteDateColumn(timestamp('deleted_at', { nullable: true }))
  deletedAt: Date | null;

  /** The content's search vector (src/db/text-search.ts), kept by a trigger on every write of the
   * content (migrations MessageSearchVector, SearchEscapedText). Declared so the schema and the entities agree; the ORM never writes it
   * and rows never carry it: search reads it in SQL (src/db/text-search.ts). */
  @Column({ name: 'search_vector', type: 'tsvector', select: false, insert: false, update: false })
  searchVector?: never;
}
