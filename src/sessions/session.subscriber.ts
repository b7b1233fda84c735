import {
  EntityManager,
  EntitySubscriberInterface,
  EventSubscriber,
  InsertEvent,
  QueryRunner,
  RecoverEvent,
  RemoveEvent,
  SoftRemoveEvent,
  UpdateEvent,
} from 'typeorm';
import { inBatch } from '../db/event-batch';
import { queryRows } from '../db/query-rows';
import { cascadeWrites } from '../db/guards';
import { Message } from '../messages/message.entity';
import { NodeSync } from '../node-sync/node-sync.entity';
import { SessionSkill } from '../skills/session-skill.entity';
import { removeAudioAfterCommit } from '../storage/audio-cleanup';
import { Session } from './session.entity';

/** A session's `updated_at` only moves forward: to now, or 1 ms past its last value when two
 * changes share a millisecond, so "changed since" comparisons never miss a change. */
const NEXT_UPDATED_AT = `GREATEST(date_trunc('milliseconds', clock_timestamp()), updated_at + interval '1 millisecond')`;

/** Moves `updated_at` of the given sessions forward (a message, a skill link or the session changed). */
export async function touchSessions(manager: EntityManager, sessionIds: string[]): Promise<void> {
  const ids = [...new Set(sessionIds)];
  if (ids.length === 0) return;
  // Many sessions at once (a skill leaving the catalogue): lock them in id order first, so two
  // such cascades over overlapping sessions wait for each other instead of deadlocking.
  if (ids.length > 1) await manager.query(`SELECT 1 FROM sessions WHERE id = ANY($1) ORDER BY id FOR UPDATE`, [ids]);
  await cascadeWrites(() =>
    manager
      .createQueryBuilder()
      .update(Session)
      .set({ updatedAt: () => NEXT_UPDATED_AT })
      .where('id = ANY(:sessionIds)', { sessionIds: ids })
      .callListeners(false)
      .execute(),
  );
}

/**
 * Removes every row that depends on the given sessions (messages, skill links, node sync rows),
 * set-based, and schedules the audio objects no other message uses for removal after commit.
 * The sessions themselves are left to the caller (TypeORM's own DELETE, or the user cascade).
 */
export async function purgeSessionDependents(manager: EntityManager, queryRunner: QueryRunner, sessionIds: string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  const audio: { key: string }[] = await manager.query(
    `SELECT DISTINCT audio_key AS key FROM messages WHERE session_id = ANY($1) AND audio_key IS NOT NULL`,
    [sessionIds],
  );
  await cascadeWrites(async () => {
    for (const child of [Message, SessionSkill, NodeSync]) {
      await manager.createQueryBuilder().delete().from(child).where('session_id = ANY(:sessionIds)', { sessionIds }).callListeners(false).execute();
    }
  });
  removeAudioAfterCommit(queryRunner, await unreferencedAudio(manager, audio.map((a) => a.key)));
}

/** Of the given audio keys, those no remaining message points to (keys may be shared). */
export async function unreferencedAudio(manager: EntityManager, keys: string[]): Promise<string[]> {
  if (keys.length === 0) return [];
  const rows: { key: string }[] = await manager.query(
    `SELECT k AS key FROM unnest($1::text[]) AS k WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.audio_key = k)`,
    [keys],
  );
  return rows.map((r) => r.key);
}

interface OwnChange {
  session: Session | undefined;
  id: string;
  previous: Date | null;
}

/**
 * Owns what follows from writes to sessions, inside the caller's transaction:
 * - soft delete stamps the session's live messages with the session's `deletedAt`, which is made
 *   strictly later than any message deleted on its own before, so a restore can tell them apart;
 * - restore brings back exactly the messages carrying the session's stamp;
 * - purge (hard remove) removes messages, skill links and node sync rows, and the purged audio;
 * - `updatedAt` moves forward on every change; `isSyncing` and `deletedAt` are never written
 *   through `save` (they are derived, or have their own paths).
 */
@EventSubscriber()
export class SessionSubscriber implements EntitySubscriberInterface<Session> {
  listenTo() {
    return Session;
  }

  beforeInsert(event: InsertEvent<Session>): void {
    if (event.entity.isSyncing) {
      throw new Error('Session.isSyncing is derived from its node sync rows; report node sync instead of setting it');
    }
  }

  beforeUpdate(event: UpdateEvent<Session>): void {
    const changed = new Set(event.updatedColumns.map((c) => c.propertyName));
    if (changed.has('deletedAt')) throw new Error('Session.deletedAt changes only through softRemove/recover');
    if (changed.has('isSyncing')) throw new Error('Session.isSyncing is derived from its node sync rows');
    if (changed.has('userId')) throw new Error('A session cannot change owner');
  }

  afterUpdate(event: UpdateEvent<Session>): Promise<void> {
    return this.touchOwn(event.queryRunner, event.manager, this.change(event));
  }

  afterSoftRemove(event: SoftRemoveEvent<Session>): Promise<void> {
    const change = this.change(event);
    return inBatch(event.queryRunner, 'session:soft-remove', change.id, change, async (changes) => {
      const rows = await queryRows<{ id: string; deleted_at: Date; updated_at: Date }>(
        event.manager,
        `UPDATE sessions s
         SET deleted_at = GREATEST(s.deleted_at,
               (SELECT max(m.deleted_at) FROM messages m WHERE m.session_id = s.id) + interval '1 millisecond'),
             updated_at = GREATEST(date_trunc('milliseconds', clock_timestamp()), s.updated_at, p.previous + interval '1 millisecond')
         FROM unnest($1::uuid[], $2::timestamptz[]) AS p(id, previous)
         WHERE s.id = p.id AND s.deleted_at IS NOT NULL
         RETURNING s.id, s.deleted_at, s.updated_at`,
        [changes.map((c) => c.id), changes.map((c) => c.previous)],
      );
      await event.manager.query(
        `UPDATE messages m SET deleted_at = s.deleted_at
         FROM sessions s
         WHERE s.id = ANY($1) AND m.session_id = s.id AND m.deleted_at IS NULL AND s.deleted_at IS NOT NULL`,
        [changes.map((c) => c.id)],
      );
      this.refresh(changes, rows);
    });
  }

  beforeRecover(event: RecoverEvent<Session>): Promise<void> {
    const change = this.change(event);
    return inBatch(event.queryRunner, 'session:recover', change.id, change, async (changes) => {
      // Still under the session's stamp: exactly the messages deleted together with it.
      await event.manager.query(
        `UPDATE messages m SET deleted_at = NULL
         FROM sessions s
         WHERE s.id = ANY($1) AND m.session_id = s.id AND s.deleted_at IS NOT NULL AND m.deleted_at = s.deleted_at`,
        [changes.map((c) => c.id)],
      );
    });
  }

  afterRecover(event: RecoverEvent<Session>): Promise<void> {
    return this.touchOwn(event.queryRunner, event.manager, this.change(event));
  }

  beforeRemove(event: RemoveEvent<Session>): Promise<void> {
    const change = this.change(event);
    return inBatch(event.queryRunner, 'session:purge', change.id, change, (changes) =>
      purgeSessionDependents(event.manager, event.queryRunner, changes.map((c) => c.id)),
    );
  }

  private change(event: { entity?: Session | Partial<Session> | object; databaseEntity?: Session; entityId?: unknown }): OwnChange {
    const session = event.entity as Session | undefined;
    const id = session?.id ?? event.databaseEntity?.id ?? (event.entityId as { id?: string } | undefined)?.id;
    if (!id) throw new Error('A session write reached the subscriber without an id');
    return { session, id, previous: event.databaseEntity?.updatedAt ?? null };
  }

  /** After the session's own UPDATE: `updated_at` strictly past its value before this write. */
  private touchOwn(queryRunner: QueryRunner, manager: EntityManager, change: OwnChange): Promise<void> {
    return inBatch(queryRunner, 'session:touch-own', change.id, change, async (changes) => {
      const rows = await queryRows<{ id: string; updated_at: Date }>(
        manager,
        `UPDATE sessions s
         SET updated_at = GREATEST(date_trunc('milliseconds', clock_timestamp()), s.updated_at, p.previous + interval '1 millisecond')
         FROM unnest($1::uuid[], $2::timestamptz[]) AS p(id, previous)
         WHERE s.id = p.id
         RETURNING s.id, s.updated_at`,
        [changes.map((c) => c.id), changes.map((c) => c.previous)],
      );
      this.refresh(changes, rows);
    });
  }

  /** Keeps the caller's entities equal to the rows just written. */
  private refresh(changes: OwnChange[], rows: { id: string; deleted_at?: Date; updated_at: Date }[]): void {
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const { session, id } of changes) {
      const row = byId.get(id);
      if (!session || !row) continue;
      session.updatedAt = row.updated_at;
      if (row.deleted_at !== undefined) session.deletedAt = row.deleted_at;
    }
  }
}
