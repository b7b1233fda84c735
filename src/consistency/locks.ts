import { EntityManager } from 'typeorm';
import { Viewer } from '../auth/viewer';
import { hold } from '../db/held-rows';
import { queryRows } from '../db/query-rows';
import { notFound } from '../errors';
import { Message } from '../messages/message.entity';
import { messageColumns, toMessage } from '../messages/message.rows';
import { SqlParams } from '../pagination/sql-params';
import { Session } from '../sessions/session.entity';
import { sessionColumns, toSession } from '../sessions/session.rows';
import { sessionScope } from '../sessions/session.scope';
import { Skill } from '../skills/skill.entity';
import { skillColumns, toSkill } from '../skills/skill.rows';
import { User } from '../users/user.entity';
import { toUser, userColumns } from '../users/user.rows';

/**
 * The lock order, written once. Every write transaction takes its row locks in this order, and
 * within a level in id order, so two writers can wait for each other but never in a cycle:
 *
 *   1. users     deleteUsers: FOR UPDATE (`lockUsers`); createSession: its owner FOR SHARE (`lockOwner`)
 *   2. skills    FOR SHARE to link them (createSession, attachSkills), FOR UPDATE to delete one (`lockSkills`)
 *   3. sessions  FOR UPDATE (`lockSession`, `lockMessage`; the cascades' `lockSessions` for many)
 *   4. messages, skill links, node sync rows, audio upload rows: written only under their session's lock
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
 * Every lock is one statement that also returns the rows, which the transaction then holds
 * (src/db/held-rows.ts): TypeORM does not read them again, and the write answers from them.
 */

/** Users to delete, FOR UPDATE in id order; unknown ids are skipped. */
export async function lockUsers(manager: EntityManager, ids: string[]): Promise<User[]> {
  const rows = await queryRows(manager, `SELECT ${userColumns('u')} FROM users u WHERE u.id = ANY($1::uuid[]) ORDER BY u.id FOR UPDATE`, [ids]);
  return hold(manager, User, rows.map((row) => toUser(row)));
}

/** A new session's owner, FOR SHARE (it cannot be deleted under the new rows); NOT_FOUND if absent. */
export async function lockOwner(manager: EntityManager, id: string): Promise<User> {
  const [row] = await queryRows(manager, `SELECT ${userColumns('u')} FROM users u WHERE u.id = $1 FOR SHARE`, [id]);
  if (!row) throw notFound('User', id);
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
