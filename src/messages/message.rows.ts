import { Message } from './message.entity';

/** The messages columns under `prefix`-ed names, so a message can ride along in another row. */
export function messageColumns(alias: string, prefix = ''): string {
  return ['id', 'session_id', 'role', 'content', 'audio_key', 'audio_content_type', 'audio_byte_size', 'created_at', 'deleted_at']
    .map((c) => `${alias}.${c} AS "${prefix}${c}"`)
    .join(', ');
}

export function toMessage(row: Record<string, any>, prefix = ''): Message {
  return Object.assign(new Message(), {
    id: row[`${prefix}id`],
    sessionId: row[`${prefix}session_id`],
    role: row[`${prefix}role`],
    content: row[`${prefix}content`],
    audioKey: row[`${prefix}audio_key`],
    audioContentType: row[`${prefix}audio_content_type`],
    audioByteSize: row[`${prefix}audio_byte_size`],
    createdAt: row[`${prefix}created_at`],
    deletedAt: row[`${prefix}deleted_at`],
  });
}
