import { Session } from './session.entity';

export const SESSION_COLUMN_NAMES = ['id', 'user_id', 'title', 'is_syncing', 'version', 'created_at', 'updated_at', 'deleted_at'];

/** The sessions columns under `prefix`-ed names, so a session can ride along in another row. */
export function sessionColumns(alias: string, prefix = ''): string {
  return SESSION_COLUMN_NAMES.map((c) => `${alias}.${c} AS "${prefix}${c}"`).join(', ');
}

export function toSession(row: Record<string, any>, prefix = ''): Session {
  return Object.assign(new Session(), {
    id: row[`${prefix}id`],
    userId: row[`${prefix}user_id`],
    title: row[`${prefix}title`],
    isSyncing: row[`${prefix}is_syncing`],
    version: row[`${prefix}version`],
    createdAt: row[`${prefix}created_at`],
    updatedAt: row[`${prefix}updated_at`],
    deletedAt: row[`${prefix}deleted_at`],
  });
}
