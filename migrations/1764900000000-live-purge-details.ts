import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A purge announces what the session was, so a `PURGED` event reaches exactly the
 * `sessionChanged` filters the session matched just before it (issue 14). Owner, deleted and
 * syncing state were in the entry already; skill and node conditions could not be checked: a
 * purge removes the skill links and node sync rows before the session's row (the cascades in
 * src/consistency), or, through the foreign keys, in the same statement, whose referential
 * actions run their triggers only after the sessions trigger.
 *
 * So nothing is announced from the middle of a purge any more. Within the transaction, the DELETE
 * triggers of `session_skills` and `session_node_sync` note the rows they remove, and the `sessions`
 * DELETE trigger notes the purged sessions, in transaction-local settings (`hub.live_removed`,
 * `hub.live_purged`: reset at commit or rollback). A deferred constraint trigger on the purged rows
 * fires at commit, when every cascade has run; its first call announces every purged session of the
 * transaction, each preceded by the links and nodes the transaction removed from it, and empties
 * the notes (the other calls find nothing to do):
 *   ["K", sessionId, skillId]   the purged session had this skill
 *   ["N", sessionId, nodeId]    the purged session had a sync row for this node
 *   ["S", "P", sessionId, ownerId, wasDeleted, wasSyncing, 1]   the trailing 1: K/N entries precede it
 * A PURGED entry without the trailing 1 (a database without this migration) is matched as before:
 * skill and node conditions count as matched.
 */
export class LivePurgeDetails1764900000000 implements MigrationInterface {
  name = 'LivePurgeDetails1764900000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE OR REPLACE FUNCTION hub_live_session_children() RETURNS trigger LANGUAGE plpgsql AS $$
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
      END $$`);

    await q.query(`CREATE OR REPLACE FUNCTION hub_live_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
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
      END $$`);

    await q.query(`CREATE FUNCTION hub_live_purges() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        purged text := nullif(current_setting('hub.live_purged', true), '');
      BEGIN
        IF purged IS NULL THEN RETURN NULL; END IF;
        PERFORM set_config('hub.live_purged', '', true);
        PERFORM hub_live_emit(ARRAY(
          WITH p AS (SELECT (e->>2)::uuid AS id, e::text AS entry FROM json_array_elements(('[' || purged || ']')::json) e),
               r AS (SELECT DISTINCT (e->>1)::uuid AS id, json_build_array(e->>0, e->>1, e->>2)::text AS entry
                     FROM json_array_elements(('[' || coalesce(nullif(current_setting('hub.live_removed', true), ''), '') || ']')::json) e)
          SELECT x.entry FROM (
            SELECT r.id, 0 AS part, r.entry FROM r WHERE r.id IN (SELECT id FROM p)
            UNION ALL
            SELECT p.id, 1, p.entry FROM p) x
          ORDER BY x.id, x.part, x.entry));
        PERFORM set_config('hub.live_removed', '', true);
        RETURN NULL;
      END $$`);
    await q.query(`CREATE CONSTRAINT TRIGGER sessions_live_purges AFTER DELETE ON "sessions"
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION hub_live_purges()`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER sessions_live_purges ON "sessions"`);
    await q.query(`DROP FUNCTION hub_live_purges()`);
    // The definitions of LiveNotifyTriggers1764500000000.
    await q.query(`CREATE OR REPLACE FUNCTION hub_live_session_children() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT o.session_id FROM old_rows o));
        ELSE
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT n.session_id FROM new_rows n));
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE OR REPLACE FUNCTION hub_live_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
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
          PERFORM hub_live_emit(ARRAY(
            SELECT json_build_array('S', 'P', o.id, o.user_id, (o.deleted_at IS NOT NULL)::int, o.is_syncing::int)::text
            FROM old_rows o ORDER BY o.id));
        END IF;
        RETURN NULL;
      END $$`);
  }
}
