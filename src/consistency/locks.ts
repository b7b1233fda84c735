import { EntityManager, IsNull, LessThan } from 'typeorm';
import { Viewer } from '../auth/viewer';
import { AudioUpload } from '../audio-uploads/audio-upload.entity';
import { hold } from '../db/held-rows';
import { queryRows } from '../db/query-rows';
import { notFound, unauthenticated } from '../errors';
import { Message } from '../messages/message.entity';
import { messageColumns, toMessage } from '../messages/message.rows';
import { SqlParams } from '../db/sql-params';
import { Session } from '../sessions/session.entity';
import { sessionColumns, toSession } from '../sessions/session.rows';
import { sessionScope, sessionScopeOfRow } from '../sessions/session.scope';
import { Skill } from '../skills/skill.entity';
import { skillColumns, toSkill } from '../skills/skill.rows';
import { User } from '../users/user.entity';
import { toUser, userColumns } from '../users/user.rows';

/**
 * The lock order, written once, and every row lock of the server taken here (test/write/locks.test.ts
 * refuses a row lock anywhere else but the exceptions in `LOCKS_ELSEWHERE`). Every write
 * transaction takes its row locks in this order, and within a level in id order, so two writers
 * can wait for each other but never in a cycle:
 *
 *   0. (not a row) createAudioUpload's per-viewer advisory lock (`lockUploadQuota`), before all rows
 *   1. users     deleteUsers: FOR UPDATE (`lockUsers`); createSession: its owner FOR SHARE (`lockOwner`);
 *                a write that stamps the viewer's id on a row: the viewer's key, with the session
 *                owner's, in id order (`lockViewer`)
 *   2. skills    FOR SHARE to link them (createSession, attachSkills), FOR UPDATE to delete one (`lockSkills`)
 *   3. sessions  FOR UPDATE (`lockSession`, `lockMessage`; the cascades' `lockSessions` and
 *                `sessionsLockedForUpdate` for many; the purge job's `lockSessionsDeletedBefore`; the stream
 *                sweep's `staleStreamSessionsLocked`; a group of appends' `lockMessagesOfViewers`)
 *   4. messages, skill links, node sync rows: written only under their session's lock, and with
 *                the messages their session's count (`session_message_counts`, upserted by the
 *                messages' triggers at the end of each statement, in session id order); audio
 *                upload rows: see below
 *
 * A writer may skip a level, never go back to an earlier one. One refinement: a single session
 * is locked together with its owner's key (FOR KEY SHARE, taken first, in the same statement).
 * PostgreSQL's foreign-key check wants that key when one transaction updates a session row a
 * second time (soft delete then its stamp, save then its `updatedAt`), and waiting for it while
 * holding the session closed a cycle with deleteUsers (user, then its sessions). The owner's key
 * share conflicts only with deleteUsers' FOR UPDATE, and deleteUsers waits for nothing but users
 * and then sessions, so taking it after skills (attachSkills) closes no cycle either.
 * Set-based cascades over many sessions (`lockSessions`) update each session once and take no
 * owner keys. What PostgreSQL may still report (a deadlock inside its own cascades, a
 * serialization failure) is retried whole by `writeTransaction`.
 *
 * Audio upload rows (level 4) are locked by key (`lockUpload`). `postMessage` claims one under
 * its session's lock. Two writers lock one without its session, on purpose: the local upload
 * route (it records the bytes' arrival; waiting for the session would let a long write to the
 * session stall a PUT) and the garbage collector (a batch across many sessions, SKIP LOCKED).
 * Each of them holds no other lock and changes no key column, so it waits for nothing while
 * holding the upload row: it can be waited for, never be part of a cycle. Session purges and
 * user deletions delete upload rows only after their session locks, so levels 3 → 4 still hold.
 *
 * Every lock is one statement that also returns the rows, which the transaction then holds
 * (src/db/held-rows.ts): TypeORM does not read them again, and the write answers from them.
 */

/** Row locks taken outside this file, each with its reason (the locks test reads this list). */
export const LOCKS_ELSEWHERE: readonly { file: string; reason: string }[] = [
  {
    file: 'migrations/1764800000000-message-order.ts',
    reason:
      "`hub_message_created_at`, evaluated by every message INSERT, locks its session FOR NO KEY UPDATE (level 3) " +
      'so that inserts into one session take turns; every API writer already holds that session (lockSession, ' +
      'lockMessage), so it waits for nothing new. A migration that ran is never edited.',
  },
  {
    file: 'migrations/1765500000000-live-before-state.ts',
    reason:
      'Redefines `hub_message_created_at` (its clock also counts logged message deletions) with the same ' +
      'session lock, FOR NO KEY UPDATE under the lock its callers already hold; its down restores the ' +
      'previous definition, lock included.',
  },
  {
    file: 'migrations/1765660000000-streamed-messages.ts',
    reason:
      'Redefines `hub_message_created_at` (its clock also counts appends and finishes, `changed_at`) with the same ' +
      'session lock, FOR NO KEY UPDATE under the lock its callers already hold (appendMessageContent and ' +
      'finishMessage through lockMessage; the stream sweep through staleStreamSessionsLocked); its down restores the previous definition.',
  },
  {
    file: 'migrations/support/online-ddl.ts',
    reason:
      '`backfillSearchVectors` writes `search_vector` again in batches of pages on a database in use ' +
      '(MessageSearchVector, SearchEscapedText): each batch locks its rows FOR UPDATE SKIP LOCKED (never waiting, ' +
      'so never in a lock order with the API writers; a row another transaction holds is swept up at the end).',
  },
];

/**
 * `id IN (…)` of the sessions whose ids are parameter `$param`, locked FOR NO KEY UPDATE in id
 * order, for a set-based UPDATE that locks and writes in one statement (`touchSessions`): the
 * lock an UPDATE takes anyway, which does not wait for the key share of a concurrent insert's
 * foreign-key check (FOR UPDATE would, deadlocking two inserts into one session).
 */
export function sessionsLockedForUpdate(param: string): string {
  return `(SELECT l.id FROM sessions l WHERE l.id = ANY(${param}::uuid[]) ORDER BY l.id FOR NO KEY UPDATE)`;
}

/**
 * The stream sweep's sessions (src/messages/fail-stale-streams.ts), as a sub-select of its one
 * statement: live sessions with a live message STREAMING since before the time in parameter
 * `$param` (its last append, or its posting), among the ids in `sessionIdsParam` when given, FOR NO
 * KEY UPDATE in id order, SKIP LOCKED: a session
 * a writer or another sweep holds is swept next time, so the sweep waits for nobody. The
 * statement then updates their messages (level 4) and moves their `updated_at`.
 */
export function staleStreamSessionsLocked(param: string, sessionIdsParam?: string): string {
  return `(SELECT s.id FROM sessions s
    WHERE s.deleted_at IS NULL${sessionIdsParam ? ` AND s.id = ANY(${sessionIdsParam}::uuid[])` : ''} AND s.id IN (
      SELECT m.session_id FROM messages m
      WHERE m.status = 'STREAMING' AND m.deleted_at IS NULL AND COALESCE(m.changed_at, m.created_at) < ${param}::timestamptz)
    ORDER BY s.id FOR NO KEY UPDATE SKIP LOCKED)`;
}

/** Users to delete, FOR UPDATE in id order; unknown ids are skipped. */
export async function lockUsers(manager: EntityManager, ids: string[]): Promise<User[]> {
  const rows = await queryRows(manager, `SELECT ${userColumns('u')} FROM users u WHERE u.id = ANY($1::uuid[]) ORDER BY u.id FOR UPDATE`, [ids]);
  return hold(manager, User, rows.map((row) => toUser(row)));
}

/**
 * A new session's owner, FOR SHARE (it cannot be deleted under the new rows). Absent: NOT_FOUND,
 * or UNAUTHENTICATED when the owner is the viewer (deleted since the request was authenticated).
 */
export async function lockOwner(manager: EntityManager, id: string, viewer: Viewer): Promise<User> {
  const [row] = await queryRows(manager, `SELECT ${userColumns('u')} FROM users u WHERE u.id = $1 FOR SHARE`, [id]);
  if (!row) throw id === viewer.id ? unauthenticated('The viewer no longer exists') : notFound('User', id);
  return toUser(row);
}

/**
 * Live catalogue skills, in id order: FOR SHARE to link them (none can leave the catalogue
 * before the links commit), FOR UPDATE to delete them. NOT_FOUND names the first id that is
 * absent or deleted.
 */
export async function lockSkills(manager: EntityManager, ids: string[], purpose: 'link' | 'delete'): Promise<Skill[]> {
  if (ids.length === 0) return [];
  const mode = purpose === 'link' ? 'FOR SHARE' : 'FOR UPDATE';
  const rows = await queryRows(
    manager,
    `SELECT ${skillColumns('k')} FROM skills k WHERE k.id = ANY($1::uuid[]) AND k.deleted_at IS NULL ORDER BY k.id ${mode}`,
    [ids],
  );
  const skills = rows.map((row) => toSkill(row));
  const live = new Set(skills.map((k) => k.id));
  const missing = ids.find((id) => !live.has(id));
  if (missing) throw notFound('Skill', missing);
  return hold(manager, Skill, skills);
}

/**
 * For a write that stamps the viewer's id on a new row (an upload's `user_id`): locks the
 * viewer's key, and the key of the owner of `sessionId` (which `lockSession` takes next), FOR
 * KEY SHARE in id order, so a concurrent deleteUsers either waits for this write or has removed
 * the viewer first. A viewer deleted since the request was authenticated is UNAUTHENTICATED,
 * never a foreign-key violation.
 */
export async function lockViewer(manager: EntityManager, viewer: Viewer, sessionId: string): Promise<void> {
  const rows = await queryRows<{ id: string }>(
    manager,
    `SELECT u.id FROM users u WHERE u.id = $1 OR u.id = (SELECT s.user_id FROM sessions s WHERE s.id = $2) ORDER BY u.id FOR KEY SHARE`,
    [viewer.id, sessionId],
  );
  if (!rows.some((r) => r.id === viewer.id)) throw unauthenticated('The viewer no longer exists');
}

/** A locked session with its owner, as the write answers with them. */
export interface LockedSession {
  session: Session;
  owner: User;
}

/**
 * Locks (FOR UPDATE, its owner's key first) a session the viewer may change, for the rest of
 * the transaction, so concurrent writers to one session take turns. A session outside the
 * viewer's scope is NOT_FOUND exactly like an absent one; `live` also treats a soft-deleted
 * one so.
 */
export async function lockSession(manager: EntityManager, viewer: Viewer, id: string, which: 'live' | 'any'): Promise<LockedSession> {
  const params = new SqlParams();
  const rows = await queryRows(
    manager,
    `SELECT ${sessionColumns('s')}, ${userColumns('u', 'owner_')}
     FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = ${params.add(id)} AND ${params.named(sessionScope(viewer, 's'))}${which === 'live' ? ' AND s.deleted_at IS NULL' : ''}
     FOR KEY SHARE OF u FOR UPDATE OF s`,
    params.values,
  );
  if (rows.length === 0) throw notFound('Session', id);
  const [session] = hold(manager, Session, [toSession(rows[0])]);
  return { session, owner: toUser(rows[0], 'owner_') };
}

/**
 * Locks one message of a live session the viewer may change: the owner's key, the session and
 * then the message, in one statement. Absent, invisible or in a soft-deleted session: NOT_FOUND.
 */
export async function lockMessage(manager: EntityManager, viewer: Viewer, id: string): Promise<LockedSession & { message: Message }> {
  const params = new SqlParams();
  const rows = await queryRows(
    manager,
    `SELECT ${messageColumns('m')}, ${sessionColumns('s', 'session_')}, ${userColumns('u', 'owner_')}
     FROM messages m JOIN sessions s ON s.id = m.session_id JOIN users u ON u.id = s.user_id
     WHERE m.id = ${params.add(id)} AND s.deleted_at IS NULL AND ${params.named(sessionScope(viewer, 's'))}
     FOR KEY SHARE OF u FOR UPDATE OF s, m`,
    params.values,
  );
  if (rows.length === 0) throw notFound('Message', id);
  const [session] = hold(manager, Session, [toSession(rows[0], 'session_')]);
  const [message] = hold(manager, Message, [toMessage(rows[0])]);
  return { message, session, owner: toUser(rows[0], 'owner_') };
}

/**
 * Locks the messages of a group of appends (src/messages/append-group.ts), each for its own viewer:
 * one slot per item, in item order, with the item's message, its session and the session's owner,
 * or undefined when the message is absent, invisible to that viewer or in a soft-deleted session
 * (NOT_FOUND to the caller, as `lockMessage` would answer). One statement locks every session FOR
 * UPDATE in id order and, with each, its messages in id order; the owners are read, not locked.
 *
 * Why that keeps the lock order although it takes a message (level 4) before the next session
 * (level 3): a message is locked or written only under its session's lock, so whoever waits for
 * a message held here waits for its session first, which is held here too; a cycle would need a
 * writer that holds a later session and waits for an earlier one, against the order itself. Why
 * no owner keys (see the header): the group updates each session once (its `updatedAt`) and
 * changes no key, so no foreign-key check reads the owner, as with `lockSessions`.
 */
export async function lockMessagesOfViewers(
  manager: EntityManager,
  items: readonly { id: string; viewer: Viewer }[],
): Promise<((LockedSession & { message: Message }) | undefined)[]> {
  if (items.length === 0) return [];
  const rows = await queryRows(
    manager,
    `SELECT w.nth, ${messageColumns('m')}, ${sessionColumns('s', 'session_')}, ${userColumns('u', 'owner_')}
     FROM unnest($1::uuid[], $2::uuid[], $3::boolean[]) WITH ORDINALITY AS w(message_id, viewer_id, viewer_admin, nth)
     JOIN messages m ON m.id = w.message_id JOIN sessions s ON s.id = m.session_id JOIN users u ON u.id = s.user_id
     WHERE s.deleted_at IS NULL AND ${sessionScopeOfRow('s', 'w.viewer_id', 'w.viewer_admin')}
     ORDER BY s.id, m.id
     FOR UPDATE OF s, m`,
    [items.map((i) => i.id), items.map((i) => i.viewer.id), items.map((i) => i.viewer.isAdmin)],
  );
  const slots: ((LockedSession & { message: Message }) | undefined)[] = items.map(() => undefined);
  // One entity per row, whatever the number of items naming it: the write answers with what it stored.
  const sessions = new Map<string, Session>();
  const messages = new Map<string, Message>();
  for (const row of rows) {
    const session = sessions.get(row.session_id) ?? hold(manager, Session, [toSession(row, 'session_')])[0];
    sessions.set(session.id, session);
    const message = messages.get(row.id) ?? hold(manager, Message, [toMessage(row)])[0];
    messages.set(message.id, message);
    slots[Number(row.nth) - 1] = { message, session, owner: toUser(row, 'owner_') };
  }
  return slots;
}

/**
 * Locks many sessions in id order (for set-based cascades); returns the ids that exist. To
 * `delete` them: FOR UPDATE; to `update` them: FOR NO KEY UPDATE, the lock their UPDATE takes
 * anyway, which does not wait for the key share of a concurrent insert's foreign-key check.
 */
export async function lockSessions(
  manager: EntityManager,
  where: { ids: string[] } | { userIds: string[] } | { skillIds: string[] },
  purpose: 'update' | 'delete',
): Promise<string[]> {
  const [condition, values] =
    'ids' in where
      ? ['s.id = ANY($1::uuid[])', where.ids]
      : 'userIds' in where
        ? ['s.user_id = ANY($1::uuid[])', where.userIds]
        : ['s.id IN (SELECT l.session_id FROM session_skills l WHERE l.skill_id = ANY($1::uuid[]))', where.skillIds];
  if (values.length === 0) return [];
  const rows = await queryRows<{ id: string }>(manager, `SELECT s.id FROM sessions s WHERE ${condition} ORDER BY s.id ${purpose === 'delete' ? 'FOR UPDATE' : 'FOR NO KEY UPDATE'}`, [values]);
  return rows.map((r) => r.id);
}

/**
 * Soft-deleted sessions to purge, deleted before `before`, at most `limit`, locked FOR UPDATE in
 * id order; rows another transaction holds are skipped, not waited for (the purge job never
 * queues behind the API).
 */
export async function lockSessionsDeletedBefore(manager: EntityManager, before: Date, limit: number): Promise<Session[]> {
  const rows = await queryRows(
    manager,
    `SELECT ${sessionColumns('s')} FROM sessions s WHERE s.deleted_at < $1 ORDER BY s.id LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [before, limit],
  );
  return hold(manager, Session, rows.map((row) => toSession(row)));
}

/** One audio upload row by key, FOR UPDATE (level 4; see the header for who may take it without its session). */
export function lockUpload(manager: EntityManager, key: string): Promise<AudioUpload | null> {
  return manager.findOne(AudioUpload, { where: { key }, lock: { mode: 'pessimistic_write' } });
}

/**
 * The garbage collector's batch: unattached uploads that expired before `now`, oldest first, at
 * most `limit`, FOR UPDATE; rows another transaction holds (an upload being attached) are skipped.
 * The only lock of its transaction, so its order cannot close a cycle.
 */
export function lockExpiredUploads(manager: EntityManager, now: Date, limit: number): Promise<AudioUpload[]> {
  return manager.find(AudioUpload, {
    where: { messageId: IsNull(), expiresAt: LessThan(now) },
    order: { expiresAt: 'ASC', key: 'ASC' },
    take: limit,
    lock: { mode: 'pessimistic_write', onLocked: 'skip_locked' },
  });
}

/**
 * Before any row lock, in createAudioUpload only: serializes one viewer's upload reservations
 * (transaction-scoped advisory lock; there is no row to lock for bytes not yet reserved), so the
 * pending-bytes quota, summed from `audio_uploads`, holds across processes. Taken first and by
 * nothing else, it can close no cycle with the row locks above.
 */
export async function lockUploadQuota(manager: EntityManager, viewerId: string): Promise<void> {
  await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('audio-upload-quota:' || $1::text, 0))`, [viewerId]);
}
