import { DataSource } from 'typeorm';

/**
 * Consistency rules of the whole database, each as a query listing the rows that break it (so
 * a failure names them). They hold for every row of every test, whatever wrote it, because
 * every write path keeps them: checked in one REPEATABLE READ snapshot, so concurrent tests'
 * transactions are seen either whole or not at all.
 */
export const INVARIANTS: Record<string, string> = {
  'sessions whose owner is gone': `
    SELECT s.id FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE u.id IS NULL`,
  'messages whose session is gone': `
    SELECT m.id FROM messages m LEFT JOIN sessions s ON s.id = m.session_id WHERE s.id IS NULL`,
  'skill links whose session is gone': `
    SELECT l.session_id, l.skill_id FROM session_skills l LEFT JOIN sessions s ON s.id = l.session_id WHERE s.id IS NULL`,
  'skill links whose skill is gone or out of the catalogue': `
    SELECT l.session_id, l.skill_id FROM session_skills l LEFT JOIN skills k ON k.id = l.skill_id
    WHERE k.id IS NULL OR k.deleted_at IS NOT NULL`,
  'node sync rows whose session is gone': `
    SELECT n.session_id, n.node_id FROM session_node_sync n LEFT JOIN sessions s ON s.id = n.session_id WHERE s.id IS NULL`,
  'live messages in a soft-deleted session': `
    SELECT m.id FROM messages m JOIN sessions s ON s.id = m.session_id
    WHERE s.deleted_at IS NOT NULL AND m.deleted_at IS NULL`,
  'messages of a soft-deleted session deleted after it (a restore could not tell them apart)': `
    SELECT m.id FROM messages m JOIN sessions s ON s.id = m.session_id
    WHERE s.deleted_at IS NOT NULL AND m.deleted_at > s.deleted_at`,
  'is_syncing differing from its derivation': `
    SELECT s.id FROM sessions s
    WHERE s.is_syncing IS DISTINCT FROM EXISTS (
      SELECT 1 FROM session_node_sync n WHERE n.session_id = s.id AND n.status IN ('PENDING', 'SYNCING'))`,
  'sessions whose kept message count differs from their messages': `
    SELECT s.id, coalesce(c.live, 0) AS kept, count(m.id) AS counted FROM sessions s
    LEFT JOIN session_message_counts c ON c.session_id = s.id
    LEFT JOIN messages m ON m.session_id = s.id AND m.deleted_at IS NULL
    GROUP BY s.id, c.live HAVING coalesce(c.live, 0) <> count(m.id)`,
  'sessions updated before they were created': `
    SELECT s.id FROM sessions s WHERE s.updated_at < s.created_at`,
  'live skill names used twice': `
    SELECT name FROM skills WHERE deleted_at IS NULL GROUP BY name HAVING count(*) > 1`,
  'audio uploads whose user, session or message is gone': `
    SELECT a.key FROM audio_uploads a
    LEFT JOIN users u ON u.id = a.user_id LEFT JOIN sessions s ON s.id = a.session_id LEFT JOIN messages m ON m.id = a.message_id
    WHERE u.id IS NULL OR s.id IS NULL OR (a.message_id IS NOT NULL AND m.id IS NULL)`,
  'attached audio uploads whose message holds another key or sits in another session': `
    SELECT a.key FROM audio_uploads a JOIN messages m ON m.id = a.message_id
    WHERE m.audio_key IS DISTINCT FROM a.key OR m.session_id <> a.session_id`,
};

/**
 * Every soft-deletable table (an entity with a delete date and a create date column, so a
 * table added later is covered too): no row is deleted before it was created. A session's
 * delete stamp is later than every message it takes, so this holds for the messages too.
 */
export function stampInvariants(dataSource: DataSource): Record<string, string> {
  const rules: Record<string, string> = {};
  for (const metadata of dataSource.entityMetadatas) {
    const [created, deleted] = [metadata.createDateColumn?.databaseName, metadata.deleteDateColumn?.databaseName];
    if (!created || !deleted) continue;
    const key = metadata.primaryColumns.map((c) => `"${c.databaseName}"`).join(', ');
    rules[`${metadata.tableName} deleted before they were created`] =
      `SELECT ${key}, "${created}", "${deleted}" FROM "${metadata.tableName}" WHERE "${deleted}" < "${created}"`;
  }
  return rules;
}

/** Every broken rule with (up to 5 of) the rows that break it; `{}` when the database is consistent. */
export async function findViolations(dataSource: DataSource): Promise<Record<string, unknown[]>> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const found: Record<string, unknown[]> = {};
    for (const [rule, sql] of Object.entries({ ...INVARIANTS, ...stampInvariants(dataSource) })) {
      const rows = await runner.query(`${sql} LIMIT 5`);
      if (rows.length > 0) found[rule] = rows;
    }
    await runner.query('COMMIT');
    return found;
  } finally {
    await runner.release();
  }
}

/** Fails the calling test with the broken rules and their rows. */
export async function expectInvariants(dataSource: DataSource): Promise<void> {
  expect(await findViolations(dataSource)).toEqual({});
}

/** Ids of the session's messages that are not deleted, sorted: what a restore must give back. */
export async function liveMessageIds(dataSource: DataSource, sessionId: string): Promise<string[]> {
  const rows: { id: string }[] = await dataSource.query(
    `SELECT id FROM messages WHERE session_id = $1 AND deleted_at IS NULL ORDER BY id`,
    [sessionId],
  );
  return rows.map((r) => r.id);
}
