import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Live views equal the queries (issue 24). Two additions to the `hub_live` notifications:
 *
 * 1. Every session entry states what the session was before the change, as the writing
 *    transaction saw it, so a change reaches the `sessionChanged` filters the session leaves, not
 *    only those it enters:
 *      ["S", kind, sessionId, ownerId, wasDeleted, wasSyncing, 1]
 *    For an UPDATE of the row the flags are its old values; for a change to a child row (a link,
 *    a node sync row, a message) they are the row's values at that statement, which that
 *    statement does not change. The trailing 1 (as on PURGED entries since LivePurgeDetails) says
 *    the flags are meaningful and that the K/N entries right before it name the skill links and
 *    node sync rows the statement removed from the session:
 *      ["K", sessionId, skillId]   ["N", sessionId, nodeId]
 *    A session entry without the trailing 1 (an older database) carries no state before: it is
 *    matched on the session after the change only, as before.
 *
 * 2. `messageChanged` needs individual message deletions in commit order, to resume from a cursor.
 *    `message_deletions` logs each message deleted while its session is live (a session's own
 *    soft delete stamps its messages, but ends every follower of it; a purge removes the log with
 *    the session), stamped from the session's message clock: `hub_message_created_at` now returns
 *    a time strictly after every message *and every logged deletion* of the session, under the
 *    session's lock, so within a session (time, id) order over posts and deletions is commit
 *    order. A logged deletion is announced as
 *      ["Y", messageId, sessionId, ownerId, "<deletion time, ISO>"]
 */
export class LiveBeforeState1765500000000 implements MigrationInterface {
  name = 'LiveBeforeState1765500000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE message_deletions (
      session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
      message_id uuid NOT NULL,
      deleted_at timestamp(3) with time zone NOT NULL,
      PRIMARY KEY (session_id, deleted_at, message_id))`);

    await q.query(`CREATE OR REPLACE FUNCTION hub_message_created_at(session uuid) RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        newest timestamptz;
        stamp timestamptz;
      BEGIN
        PERFORM 1 FROM sessions s WHERE s.id = session FOR NO KEY UPDATE;
        SELECT greatest(
                 (SELECT max(m.created_at) FROM messages m WHERE m.session_id = session),
                 (SELECT max(d.deleted_at) FROM message_deletions d WHERE d.session_id = session))
          INTO newest;
        stamp := date_trunc('milliseconds', clock_timestamp());
        IF newest IS NULL OR stamp > newest THEN RETURN stamp; END IF;
        IF newest - stamp < interval '2 milliseconds' THEN
          PERFORM pg_sleep(extract(epoch FROM newest + interval '1 millisecond' - clock_timestamp()));
          stamp := date_trunc('milliseconds', clock_timestamp());
          IF stamp > newest THEN RETURN stamp; END IF;
        END IF;
        RETURN newest + interval '1 millisecond';
      END $$`);

    await q.query(`CREATE OR REPLACE FUNCTION hub_live_touch(session_ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM hub_live_emit(ARRAY(
          SELECT json_build_array('S', 'U', s.id, s.user_id, (s.deleted_at IS NOT NULL)::int, s.is_syncing::int, 1)::text
          FROM sessions s WHERE s.id = ANY(session_ids) ORDER BY s.id));
      END $$`);

    await q.query(`CREATE OR REPLACE FUNCTION hub_live_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          PERFORM hub_live_emit(ARRAY(
            SELECT json_build_array('S', 'C', n.id, n.user_id, 0, 0, 1)::text FROM new_rows n ORDER BY n.created_at, n.id));
        ELSIF TG_OP = 'UPDATE' THEN
          PERFORM hub_live_emit(ARRAY(
            SELECT json_build_array('S',
                CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN 'D'
                     WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'R'
                     ELSE 'U' END,
                n.id, n.user_id, (o.deleted_at IS NOT NULL)::int, o.is_syncing::int, 1)::text
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE (o.*) IS DISTINCT FROM (n.*) ORDER BY n.id));
        ELSE
          -- Announced at commit (hub_live_purges), once the cascades have removed links and nodes.
          PERFORM set_config('hub.live_purged', concat_ws(',', nullif(current_setting('hub.live_purged', true), ''),
            (SELECT string_agg(json_build_array('S', 'P', o.id, o.user_id, (o.deleted_at IS NOT NULL)::int, o.is_syncing::int, 1)::text, ',' ORDER BY o.id)
             FROM old_rows o)), true);
        END IF;
        RETURN NULL;
      END $$`);

    await q.query(`CREATE OR REPLACE FUNCTION hub_live_session_children() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        removed text[];
      BEGIN
        IF TG_OP = 'DELETE' THEN
          -- One statement per table: each names its own columns of old_rows.
          IF TG_TABLE_NAME = 'session_skills' THEN
            removed := ARRAY(SELECT json_build_array('K', o.session_id, o.skill_id)::text FROM old_rows o ORDER BY 1);
          ELSE
            removed := ARRAY(SELECT json_build_array('N', o.session_id, o.node_id)::text FROM old_rows o ORDER BY 1);
          END IF;
          -- Noted for a purge in this transaction (see hub_live_purges).
          PERFORM set_config('hub.live_removed', concat_ws(',', nullif(current_setting('hub.live_removed', true), ''),
            nullif(array_to_string(removed, ','), '')), true);
          -- A session still there gets what it lost, then its entry (a purge's own entry comes at commit).
          PERFORM hub_live_emit(ARRAY(
            SELECT r.entry FROM unnest(removed) r(entry)
            WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.id = (r.entry::json->>1)::uuid)));
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT o.session_id FROM old_rows o));
        ELSE
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT n.session_id FROM new_rows n));
        END IF;
        RETURN NULL;
      END $$`);

    await q.query(`CREATE OR REPLACE FUNCTION hub_live_messages() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        deletions text[];
      BEGIN
        IF TG_OP = 'INSERT' THEN
          IF (SELECT count(*) FROM new_rows) <= 200 THEN
            PERFORM hub_live_emit(ARRAY(
              SELECT json_build_array('M', n.id, n.session_id, s.user_id)::text
              FROM new_rows n JOIN sessions s ON s.id = n.session_id ORDER BY n.created_at, n.id));
          ELSE
            PERFORM hub_live_emit(ARRAY(
              SELECT json_build_array('B', s.id, s.user_id)::text
              FROM sessions s WHERE s.id IN (SELECT n.session_id FROM new_rows n) ORDER BY s.id));
          END IF;
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT n.session_id FROM new_rows n));
        ELSIF TG_OP = 'UPDATE' THEN
          -- Deletions in live sessions, each session's stamped from its clock (see above) in id order.
          WITH gone AS (
                 SELECT n.id, n.session_id, s.user_id,
                        row_number() OVER (PARTITION BY n.session_id ORDER BY n.id) AS nth
                 FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN sessions s ON s.id = n.session_id
                 WHERE o.deleted_at IS NULL AND n.deleted_at IS NOT NULL AND s.deleted_at IS NULL),
               clock AS (SELECT g.session_id, hub_message_created_at(g.session_id) AS base FROM gone g GROUP BY g.session_id),
               logged AS (
                 INSERT INTO message_deletions (session_id, message_id, deleted_at)
                 SELECT g.session_id, g.id, c.base + (g.nth - 1) * interval '1 millisecond'
                 FROM gone g JOIN clock c ON c.session_id = g.session_id
                 RETURNING session_id, message_id, deleted_at)
          SELECT ARRAY(
            SELECT json_build_array('Y', l.message_id, l.session_id, g.user_id,
                     to_char(l.deleted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
            FROM logged l JOIN gone g ON g.id = l.message_id ORDER BY l.deleted_at, l.message_id)
          INTO deletions;
          PERFORM hub_live_emit(deletions);
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT n.session_id FROM new_rows n));
        ELSE
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT o.session_id FROM old_rows o));
        END IF;
        RETURN NULL;
      END $$`);
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const definition of PREVIOUS) await q.query(definition);
    await q.query(`DROP TABLE message_deletions`);
  }
}

// The definitions of MessageOrder1764800000000, LiveNotifyTriggers1764500000000 and
// LivePurgeDetails1764900000000 that this migration replaced.
const PREVIOUS = [
  `CREATE OR REPLACE FUNCTION hub_message_created_at(session uuid) RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        newest timestamptz;
        stamp timestamptz;
      BEGIN
        -- The lock an UPDATE of the session takes anyway (the message subscriber moves its
        -- updated_at next): it does not wait for the key share of a concurrent foreign-key check.
        PERFORM 1 FROM sessions s WHERE s.id = session FOR NO KEY UPDATE;
        SELECT max(m.created_at) INTO newest FROM messages m WHERE m.session_id = session;
        stamp := date_trunc('milliseconds', clock_timestamp());
        IF newest IS NULL OR stamp > newest THEN RETURN stamp; END IF;
        IF newest - stamp < interval '2 milliseconds' THEN
          PERFORM pg_sleep(extract(epoch FROM newest + interval '1 millisecond' - clock_timestamp()));
          stamp := date_trunc('milliseconds', clock_timestamp());
          IF stamp > newest THEN RETURN stamp; END IF;
        END IF;
        RETURN newest + interval '1 millisecond';
      END $$`,
  `CREATE OR REPLACE FUNCTION hub_live_touch(session_ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM hub_live_emit(ARRAY(
          SELECT json_build_array('S', 'U', s.id, s.user_id, 0, 0)::text
          FROM sessions s WHERE s.id = ANY(session_ids) ORDER BY s.id));
      END $$`,
  `CREATE OR REPLACE FUNCTION hub_live_messages() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          IF (SELECT count(*) FROM new_rows) <= 200 THEN
            PERFORM hub_live_emit(ARRAY(
              SELECT json_build_array('M', n.id, n.session_id, s.user_id)::text
              FROM new_rows n JOIN sessions s ON s.id = n.session_id ORDER BY n.created_at, n.id));
          ELSE
            -- A bulk insert (a seed, an import) announces its sessions, not each message: their
            -- messageAdded subscribers replay from where they are, as after a lost connection.
            PERFORM hub_live_emit(ARRAY(
              SELECT json_build_array('B', s.id, s.user_id)::text
              FROM sessions s WHERE s.id IN (SELECT n.session_id FROM new_rows n) ORDER BY s.id));
          END IF;
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT n.session_id FROM new_rows n));
        ELSIF TG_OP = 'UPDATE' THEN
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT n.session_id FROM new_rows n));
        ELSE
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT o.session_id FROM old_rows o));
        END IF;
        RETURN NULL;
      END $$`,
  `CREATE OR REPLACE FUNCTION hub_live_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          PERFORM hub_live_emit(ARRAY(
            SELECT json_build_array('S', 'C', n.id, n.user_id, 0, 0)::text FROM new_rows n ORDER BY n.created_at, n.id));
        ELSIF TG_OP = 'UPDATE' THEN
          PERFORM hub_live_emit(ARRAY(
            SELECT json_build_array('S',
                CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN 'D'
                     WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'R'
                     ELSE 'U' END,
                n.id, n.user_id, 0, 0)::text
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE (o.*) IS DISTINCT FROM (n.*) ORDER BY n.id));
        ELSE
          -- Announced at commit (hub_live_purges), once the cascades have removed links and nodes.
          PERFORM set_config('hub.live_purged', concat_ws(',', nullif(current_setting('hub.live_purged', true), ''),
            (SELECT string_agg(json_build_array('S', 'P', o.id, o.user_id, (o.deleted_at IS NOT NULL)::int, o.is_syncing::int, 1)::text, ',' ORDER BY o.id)
             FROM old_rows o)), true);
        END IF;
        RETURN NULL;
      END $$`,
  `CREATE OR REPLACE FUNCTION hub_live_session_children() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        noted text;
      BEGIN
        IF TG_OP = 'DELETE' THEN
          -- Noted for a purge in this transaction (see hub_live_purges); a detach that
          -- purges nothing leaves the note unread.
          -- (One statement per table: each names its own columns of old_rows.)
          IF TG_TABLE_NAME = 'session_skills' THEN
            noted := (SELECT string_agg(json_build_array('K', o.session_id, o.skill_id)::text, ',') FROM old_rows o);
          ELSE
            noted := (SELECT string_agg(json_build_array('N', o.session_id, o.node_id)::text, ',') FROM old_rows o);
          END IF;
          PERFORM set_config('hub.live_removed', concat_ws(',', nullif(current_setting('hub.live_removed', true), ''), noted), true);
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT o.session_id FROM old_rows o));
        ELSE
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT n.session_id FROM new_rows n));
        END IF;
        RETURN NULL;
      END $$`
];
