import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { User } from '../../src/users/user.entity';
import { Factories } from '../factories';

/** Words the generated titles, contents and queries share (stems, stop words, near-duplicates). */
export const WORDS = ['apple', 'apples', 'banana', 'cherry', 'river', 'rivers', 'running', 'run', 'the', 'and', 'zebra', 'quartz'];
/** Text a hostile writer puts in a message: markup, entities, quotes, the highlight's own marks. */
/** Markup and entities, whole and in pieces: an open `<a` and a later `>` make a tag of the words between them. */
export const HOSTILE = ['<b>', '</b>', '<script>alert(1)</script>', '&amp;', '&lt;', '&', '"', "'", '<mark>', '</mark>', '<img src=x onerror=alert(1)>', '&#39;', '…', '<a', '<p title=', '>', '/>'];

export const STATUSES = ['PENDING', 'SYNCING', 'SYNCED', 'FAILED'] as const;
export const NODES = ['node-a', 'node-b', 'node-c'];

export const text = (max: number) =>
  fc.array(fc.oneof(fc.constantFrom(...WORDS), fc.constantFrom(...WORDS), fc.constantFrom(...HOSTILE)), { minLength: 1, maxLength: max }).map((w) => w.join(' '));

/** A generated data set: sessions of three owners (0, 1: members, 2: the admin), messages and node reports. */
export interface DataSet {
  sessions: { owner: number; title: string; createdMin: number; deletedMin: number | null }[];
  messages: { session: number; content: string; createdMin: number; ownDeleted: boolean; audio: boolean }[];
  reports: { session: number; node: string; status: (typeof STATUSES)[number]; atMin: number }[];
}

export const dataSets = (base: { maxSessions?: number; maxMessages?: number } = {}) =>
  fc
    .array(
      fc.record({
        owner: fc.integer({ min: 0, max: 2 }),
        title: text(3),
        createdMin: fc.integer({ min: 0, max: 600 }),
        deletedMin: fc.option(fc.integer({ min: 0, max: 60 }), { freq: 4 }),
      }),
      { minLength: 1, maxLength: base.maxSessions ?? 6 },
    )
    .chain((sessions) =>
      fc.record({
        sessions: fc.constant(sessions),
        messages: fc.array(
          fc.record({
            session: fc.integer({ min: 0, max: sessions.length - 1 }),
            content: text(8),
            createdMin: fc.integer({ min: 0, max: 600 }),
            ownDeleted: fc.boolean(),
            audio: fc.boolean(),
          }),
          { maxLength: base.maxMessages ?? 16 },
        ),
        reports: fc.uniqueArray(
          fc.record({
            session: fc.integer({ min: 0, max: sessions.length - 1 }),
            node: fc.constantFrom(...NODES),
            status: fc.constantFrom(...STATUSES),
            atMin: fc.integer({ min: 0, max: 600 }),
          }),
          { selector: (r) => `${r.session}:${r.node}`, maxLength: 8 },
        ),
      }),
    );

/** Times of a data set: minutes after `BASE`, plus a few seconds so buckets are not all aligned. */
export const BASE = Date.UTC(2026, 2, 2, 10, 0, 0);
export const at = (minutes: number, salt = 0) => new Date(BASE + minutes * 60_000 + (salt % 59) * 1000 + (salt % 7));

export interface Inserted {
  users: User[];
  sessionIds: string[];
  messageIds: string[];
}

/**
 * Writes a data set for three fresh users (two members, one admin) with raw SQL, the way an
 * import would: a soft-deleted session stamps its live messages with its own deletion time (as
 * deleteSession does), messages deleted on their own earlier keep theirs, and `is_syncing` follows
 * the node reports (as reportNodeSync keeps it).
 */
export async function insertDataSet(ds: DataSource, f: Factories, data: DataSet): Promise<Inserted> {
  const users = [await f.user(), await f.user(), await f.admin()];
  const sessionRows = data.sessions.map((s, i) => {
    const created = at(s.createdMin, i);
    const deleted = s.deletedMin === null ? null : new Date(created.getTime() + 3_600_000 + s.deletedMin * 60_000);
    return { user_id: users[s.owner].id, title: s.title.slice(0, 200), created_at: created.toISOString(), deleted_at: deleted?.toISOString() ?? null };
  });
  const sessions: { id: string }[] = await ds.query(
    `INSERT INTO sessions (user_id, title, created_at, updated_at, deleted_at)
     SELECT r.user_id, r.title, r.created_at, r.created_at, r.deleted_at FROM json_to_recordset($1::json)
       AS r(user_id uuid, title text, created_at timestamptz, deleted_at timestamptz, ord int) ORDER BY r.ord RETURNING id`,
    [JSON.stringify(sessionRows.map((r, ord) => ({ ...r, ord })))],
  );
  // RETURNING follows the insert order of an ordered SELECT.
  const sessionIds = sessions.map((s) => s.id);
  const messageRows = data.messages.map((m, i) => {
    const session = sessionRows[m.session];
    const created = at(m.createdMin, i + 13);
    const sessionDeleted = session.deleted_at ? new Date(session.deleted_at) : null;
    // Deleted on its own before the session (if any) was; else deleted with it.
    const ownDeleted = m.ownDeleted ? new Date(created.getTime() + 60_000) : null;
    const deleted = ownDeleted && (!sessionDeleted || ownDeleted < sessionDeleted) ? ownDeleted : sessionDeleted;
    const createdAt = sessionDeleted && created > sessionDeleted ? new Date(sessionDeleted.getTime() - 1) : created;
    return {
      session_id: sessionIds[m.session],
      content: m.content,
      created_at: createdAt.toISOString(),
      deleted_at: deleted?.toISOString() ?? null,
      audio: m.audio,
      ord: i,
    };
  });
  const messages: { id: string }[] = messageRows.length
    ? await ds.query(
        `INSERT INTO messages (session_id, role, content, created_at, deleted_at, audio_key, audio_content_type, audio_byte_size)
         SELECT r.session_id, 'USER', r.content, r.created_at, r.deleted_at,
           CASE WHEN r.audio THEN 'audio/test/' || gen_random_uuid() END, CASE WHEN r.audio THEN 'audio/ogg' END, CASE WHEN r.audio THEN 10 END
         FROM json_to_recordset($1::json) AS r(session_id uuid, content text, created_at timestamptz, deleted_at timestamptz, audio boolean, ord int)
         ORDER BY r.ord RETURNING id`,
        [JSON.stringify(messageRows)],
      )
    : [];
  if (data.reports.length) {
    // One statement: a check of the invariants by another test file (one database per run) never
    // sees node rows whose session's is_syncing does not follow them yet. The sessions are new, so
    // the inserted rows are all their node rows.
    await ds.query(
      `WITH reported AS (
         INSERT INTO session_node_sync (session_id, node_id, status, updated_at)
         SELECT r.session_id, r.node_id, r.status::sync_status, r.updated_at FROM json_to_recordset($1::json)
           AS r(session_id uuid, node_id text, status text, updated_at timestamptz)
         RETURNING session_id, status)
       UPDATE sessions s SET is_syncing = true
       WHERE s.id IN (SELECT session_id FROM reported WHERE status IN ('PENDING', 'SYNCING'))`,
      [JSON.stringify(data.reports.map((r, i) => ({ session_id: sessionIds[r.session], node_id: r.node, status: r.status, updated_at: at(r.atMin, i + 29).toISOString() })))],
    );
  }
  return { users, sessionIds, messageIds: messages.map((m) => m.id) };
}

/** Everything a naive computation needs about the rows of some users, read back plainly. */
export async function rowsOf(ds: DataSource, userIds: string[]) {
  const sessions: { id: string; user_id: string; title: string; created_at: Date; deleted_at: Date | null; is_syncing: boolean }[] = await ds.query(
    `SELECT id, user_id, title, created_at, deleted_at, is_syncing FROM sessions WHERE user_id = ANY($1::uuid[])`,
    [userIds],
  );
  const ids = sessions.map((s) => s.id);
  const messages: { id: string; session_id: string; content: string; created_at: Date; deleted_at: Date | null; audio_key: string | null }[] =
    await ds.query(`SELECT id, session_id, content, created_at, deleted_at, audio_key FROM messages WHERE session_id = ANY($1::uuid[])`, [ids]);
  const reports: { session_id: string; node_id: string; status: string; updated_at: Date }[] = await ds.query(
    `SELECT session_id, node_id, status::text, updated_at FROM session_node_sync WHERE session_id = ANY($1::uuid[])`,
    [ids],
  );
  return { sessions, messages, reports };
}
