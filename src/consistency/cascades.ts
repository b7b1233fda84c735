import { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { cascadeWrites } from '../db/guards';
import { refreshHeld } from '../db/held-rows';
import { queryRows } from '../db/query-rows';
import { isUuid } from '../ids';
import { Message } from '../messages/message.entity';
import { ACTIVE_SYNC_STATUSES } from '../node-sync/node-sync.entity';
import { Session } from '../sessions/session.entity';
import { removeAudioAfterCommit } from '../storage/audio-cleanup';
import { lockSessions, sessionsLockedForUpdate } from './locks';

/**
 * The cross-entity effects of writes, each one named, set-based function over many rows, run
 * inside the caller's transaction. The entity subscribers only dispatch TypeORM's events here
 * (batched per statement, src/db/event-batch.ts); nothing else writes one entity because another
 * changed. Every statement runs through the write guards' scoped hatch (`cascadeWrites`), and
 * what it returns is written back into the rows the transaction holds (src/db/held-rows.ts) and
 * into the caller's entities, so the write answers with the values it stored.
 *
 * Rules kept here:
 *  - a session's `updated_at` only moves forward: to now, or 1 ms past its last value when two
 *    changes share a millisecond, so "changed since" comparisons never miss a change;
 *  - soft-deleting a session stamps its live messages with the session's `deleted_at`, which is
 *    strictly later than any message deleted on its own (so a restore can tell them apart) and
 *    not earlier than any message it takes was created; restoring brings back exactly the
 *    messages carrying the stamp; a message never lives in a soft-deleted session;
 *  - purging a session removes its messages, skill links and node sync rows (and, after commit,
 *    the audio objects no remaining message uses); a skill leaving the catalogue loses its links;
 *  - `sessions.is_syncing` equals "some node is PENDING or SYNCING";
 *  - a message's `created_at` is stamped under its session's lock, strictly after every message
 *    of the session and never ahead of the clock (`messageCreatedAt`), so within a session
 *    `created_at` order is commit order and a cursor resume misses nothing.
 */

/** A session a cascade changes, with its `updated_at` before this write when the write already moved it. */
export interface SessionChange {
  id: string;
  previous?: Date | null;
  /** The caller's entity, kept equal to the row (held rows are kept so anyway). */
  entity?: Session;
}

type Row = Record<string, unknown>;

/** One cascade statement: through the hatch, on the caller's transaction. */
function write<T extends Row>(manager: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  return cascadeWrites(() => queryRows<T>(manager, sql, params));
}

/** Writes returned columns into held rows and the given entities. */
function keep(manager: EntityManager, target: EntityTarget<ObjectLiteral>, rows: Row[], entities: (ObjectLiteral | undefined)[] = []): void {
  refreshHeld(manager, target, rows);
  const metadata = manager.connection.getMetadata(target);
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const entity of entities) {
    const row = entity && byId.get(entity.id);
    if (!row) continue;
    for (const [name, value] of Object.entries(row)) metadata.findColumnWithDatabaseName(name)?.setEntityValue(entity!, value);
  }
}

/** `updated_at` strictly past `previous` (an SQL expression) and never backwards. */
const nextUpdatedAt = (previous: string) =>
  `GREATEST(date_trunc('milliseconds', clock_timestamp()), s.updated_at, ${previous} + interval '1 millisecond')`;
const NEXT_UPDATED_AT = nextUpdatedAt('COALESCE(p.previous, s.updated_at)');

/**
 * Moves `updated_at` of the given sessions forward (the session, one of its messages, skill
 * links or its row changed), past `previous` when the write itself already set it. Many
 * sessions are locked in id order within the same statement (`sessionsLockedForUpdate`).
 * Returns the rows written.
 */
export async function touchSessions(manager: EntityManager, changes: SessionChange[]): Promise<{ id: string; updated_at: Date; deleted_at: Date | null }[]> {
  const unique = [...new Map(changes.map((c) => [c.id, c])).values()];
  if (unique.length === 0) return [];
  const rows = await write<{ id: string; updated_at: Date; deleted_at: Date | null }>(
    manager,
    `UPDATE sessions s SET updated_at = ${NEXT_UPDATED_AT}
     FROM unnest($1::uuid[], $2::timestamptz[]) AS p(id, previous)
     WHERE s.id = p.id AND s.id IN ${sessionsLockedForUpdate('$1')}
     RETURNING s.id, s.updated_at, s.deleted_at`,
    [unique.map((c) => c.id), unique.map((c) => c.previous ?? null)],
  );
  keep(manager, Session, rows, unique.map((c) => c.entity));
  return rows;
}

/**
 * After sessions were soft-deleted: their stamp becomes later than any message deleted on its
 * own and no earlier than any live message was created, and their live messages take it, in
 * one statement.
 */
export async function stampMessages(manager: EntityManager, changes: SessionChange[]): Promise<void> {
  if (changes.length === 0) return;
  const rows = await write(
    manager,
    `WITH stamped AS (
       UPDATE sessions s
       SET deleted_at = GREATEST(s.deleted_at, s.created_at,
             (SELECT max(m.deleted_at) + interval '1 millisecond' FROM messages m WHERE m.session_id = s.id),
             (SELECT max(m.created_at) FROM messages m WHERE m.session_id = s.id AND m.deleted_at IS NULL)),
           updated_at = ${NEXT_UPDATED_AT}
       FROM unnest($1::uuid[], $2::timestamptz[]) AS p(id, previous)
       WHERE s.id = p.id AND s.deleted_at IS NOT NULL
       RETURNING s.id, s.deleted_at, s.updated_at),
     taken AS (
       UPDATE messages m SET deleted_at = st.deleted_at FROM stamped st
       WHERE m.session_id = st.id AND m.deleted_at IS NULL)
     SELECT id, deleted_at, updated_at FROM stamped`,
    [changes.map((c) => c.id), changes.map((c) => c.previous ?? null)],
  );
  keep(manager, Session, rows, changes.map((c) => c.entity));
}

/** Before sessions are restored: exactly the messages still carrying their delete stamp come back. */
export async function restoreStampedMessages(manager: EntityManager, sessionIds: string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  await write(
    manager,
    `UPDATE messages m SET deleted_at = NULL FROM sessions s
     WHERE s.id = ANY($1::uuid[]) AND m.session_id = s.id AND s.deleted_at IS NOT NULL AND m.deleted_at = s.deleted_at`,
    [sessionIds],
  );
}

/**
 * New messages that landed in a soft-deleted session (only through the ORM; the API refuses)
 * are deleted with it: they take its stamp, and were created no later than it.
 */
export async function stampMessagesOfDeletedSessions(manager: EntityManager, messages: Message[]): Promise<void> {
  if (messages.length === 0) return;
  const rows = await write(
    manager,
    `UPDATE messages m SET deleted_at = s.deleted_at, created_at = LEAST(m.created_at, s.deleted_at)
     FROM sessions s
     WHERE m.id = ANY($1::uuid[]) AND s.id = m.session_id AND s.deleted_at IS NOT NULL AND m.deleted_at IS NULL
     RETURNING m.id, m.deleted_at, m.created_at`,
    [messages.map((m) => m.id)],
  );
  keep(manager, Message, rows, messages);
}

/**
 * Removes every row that depends on the given sessions (messages, skill links, node sync rows,
 * audio upload rows) in one statement, and schedules the audio objects no remaining message
 * uses for removal after commit. The sessions themselves are left to the caller (TypeORM's own
 * DELETE, or the user cascade).
 */
export async function purgeDependents(manager: EntityManager, sessionIds: string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  const audio = await write<{ key: string }>(
    manager,
    `WITH gone AS (DELETE FROM messages WHERE session_id = ANY($1::uuid[]) RETURNING audio_key),
          links AS (DELETE FROM session_skills WHERE session_id = ANY($1::uuid[])),
          nodes AS (DELETE FROM session_node_sync WHERE session_id = ANY($1::uuid[])),
          uploads AS (DELETE FROM audio_uploads WHERE session_id = ANY($1::uuid[]) RETURNING key)
     SELECT audio_key AS key FROM gone WHERE audio_key IS NOT NULL UNION SELECT key FROM uploads`,
    [sessionIds],
  );
  await removeUnreferencedAudio(manager, audio.map((a) => a.key));
}

/**
 * Removing users: their sessions are locked in id order, emptied and deleted, and their uploads
 * elsewhere go too (uploads have no life of their own).
 */
export async function purgeSessionsOfUsers(manager: EntityManager, userIds: string[]): Promise<void> {
  const sessionIds = await lockSessions(manager, { userIds }, 'delete');
  await purgeDependents(manager, sessionIds);
  const uploads = await write<{ key: string }>(
    manager,
    `WITH uploads AS (DELETE FROM audio_uploads WHERE user_id = ANY($2::uuid[]) RETURNING key),
          sessions AS (DELETE FROM sessions WHERE id = ANY($1::uuid[]))
     SELECT key FROM uploads`,
    [sessionIds, userIds],
  );
  await removeUnreferencedAudio(manager, uploads.map((u) => u.key));
}

/** Of the given audio keys (just hard-deleted), those no remaining message uses leave the store after commit. */
export async function removeUnreferencedAudio(manager: EntityManager, keys: string[]): Promise<void> {
  const unique = [...new Set(keys)];
  if (unique.length === 0) return;
  const rows = await queryRows<{ key: string }>(
    manager,
    `SELECT k AS key FROM unnest($1::text[]) AS k WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.audio_key = k)`,
    [unique],
  );
  removeAudioAfterCommit(manager, rows.map((r) => r.key));
}

/**
 * Skills leaving the catalogue lose all their session links: the linked sessions are locked in
 * id order first (skills → sessions → links, the lock order), then the links go and those
 * sessions' `updated_at` moves, in one statement.
 */
export async function unlinkSkills(manager: EntityManager, skillIds: string[]): Promise<void> {
  if (skillIds.length === 0) return;
  const sessionIds = await lockSessions(manager, { skillIds }, 'update');
  if (sessionIds.length === 0) return;
  const rows = await write(
    manager,
    `WITH gone AS (DELETE FROM session_skills WHERE skill_id = ANY($1::uuid[]) RETURNING session_id)
     UPDATE sessions s SET updated_at = ${nextUpdatedAt('s.updated_at')}
     WHERE s.id IN (SELECT session_id FROM gone)
     RETURNING s.id, s.updated_at`,
    [skillIds],
  );
  keep(manager, Session, rows);
}

/**
 * Recomputes `sessions.is_syncing` ("some node is PENDING or SYNCING") for the sessions whose
 * node sync rows changed. Sync reports do not move a session's `updatedAt`.
 */
export async function recomputeSyncing(manager: EntityManager, sessionIds: string[]): Promise<void> {
  const ids = [...new Set(sessionIds)];
  if (ids.length === 0) return;
  const rows = await write(
    manager,
    `UPDATE sessions s SET is_syncing = d.syncing
     FROM (SELECT x.id, EXISTS (SELECT 1 FROM session_node_sync n
                                WHERE n.session_id = x.id AND n.status = ANY($2::sync_status[])) AS syncing
           FROM unnest($1::uuid[]) AS x(id)) d
     WHERE s.id = d.id AND s.is_syncing IS DISTINCT FROM d.syncing
     RETURNING s.id, s.is_syncing`,
    [ids, ACTIVE_SYNC_STATUSES],
  );
  keep(manager, Session, rows);
}

/**
 * Upload rows have no life of their own: hard-removing messages removes the uploads attached to
 * them (sessions and users take theirs in `purgeDependents` and `purgeSessionsOfUsers`). An
 * object a remaining message names never leaves the store.
 */
export async function removeUploadsOfMessages(manager: EntityManager, messageIds: string[]): Promise<void> {
  if (messageIds.length === 0) return;
  const uploads = await write<{ key: string }>(manager, `DELETE FROM audio_uploads WHERE message_id = ANY($1::uuid[]) RETURNING key`, [messageIds]);
  await removeUnreferencedAudio(manager, uploads.map((u) => u.key));
}

/**
 * The `created_at` of a message inserted into `sessionId`, as the SQL its INSERT evaluates
 * (TypeORM inlines a function value): `hub_message_created_at` (migration MessageOrder) locks the
 * session, so its writers take turns, and returns the clock strictly after the session's newest
 * message. A message that names its own time (an import, a test's fixture) keeps it.
 */
export function messageCreatedAt(sessionId: string): () => string {
  // Inlined, so it must be exactly a UUID: it comes from the message's own session id.
  if (!isUuid(sessionId)) throw new Error(`A message's session id must be a UUID, not ${JSON.stringify(sessionId)}`);
  return () => `hub_message_created_at('${sessionId}'::uuid)`;
}
