import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Live views equal the queries however late a batch reads (issue 24). A `sessionChanged` batch
 * reads its sessions after their notifications arrive, when later writes may have landed: a
 * session that stopped syncing (or was deleted) and then lost a filter's skill, or was purged,
 * before its batch read it, had no way to tell a skill or node filter that it had been listed.
 * So a change that moves a session's own state (its deleted or syncing flag: the change that
 * makes it leave a filter by its row) now names the links it has at that statement, before its
 * entry, like the removals since LiveBeforeState:
 *   ["H", sessionId, skillId]   ["O", sessionId, nodeId]
 *   ["S", kind, sessionId, ownerId, wasDeleted, wasSyncing, 1, 1]
 * The second trailing 1 says the H/O entries before it are all the session had (none: no links).
 * Any other entry is as before, and a server that does not know H/O drops them.
 */
export class LiveLinksAtChange1796600000000 implements MigrationInterface {
  name = 'LiveLinksAtChange1796600000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE OR REPLACE FUNCTION hub_live_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          PERFORM hub_live_emit(ARRAY(
            SELECT json_build_array('S', 'C', n.id, n.user_id, 0, 0, 1)::text FROM new_rows n ORDER BY n.created_at, n.id));
        ELSIF TG_OP = 'UPDATE' THEN
          -- A change that moves the session's own state (deleted, syncing) first names the skill
          -- links (H) and node sync rows (O) it has at this statement; its S entry ends in 1, 1.
          PERFORM hub_live_emit(ARRAY(
            WITH changed AS (
              SELECT n.id, n.user_id, o.deleted_at AS was_deleted, n.deleted_at AS is_deleted, o.is_syncing AS was_syncing,
                     ((o.deleted_at IS NULL) <> (n.deleted_at IS NULL) OR o.is_syncing <> n.is_syncing) AS moved
              FROM new_rows n JOIN old_rows o ON o.id = n.id
              WHERE (o.*) IS DISTINCT FROM (n.*))
            SELECT x.entry FROM (
              SELECT c.id, 0 AS part, l.skill_id::text AS detail, json_build_array('H', c.id, l.skill_id)::text AS entry
              FROM changed c JOIN session_skills l ON l.session_id = c.id WHERE c.moved
              UNION ALL
              SELECT c.id, 1, y.node_id::text, json_build_array('O', c.id, y.node_id)::text
              FROM changed c JOIN session_node_sync y ON y.session_id = c.id WHERE c.moved
              UNION ALL
              SELECT c.id, 2, '', json_build_array('S',
                  CASE WHEN c.was_deleted IS NULL AND c.is_deleted IS NOT NULL THEN 'D'
                       WHEN c.was_deleted IS NOT NULL AND c.is_deleted IS NULL THEN 'R'
                       ELSE 'U' END,
                  c.id, c.user_id, (c.was_deleted IS NOT NULL)::int, c.was_syncing::int, 1, c.moved::int)::text
              FROM changed c) x
            ORDER BY x.id, x.part, x.detail));
        ELSE
          -- Announced at commit (hub_live_purges), once the cascades have removed links and nodes.
          PERFORM set_config('hub.live_purged', concat_ws(',', nullif(current_setting('hub.live_purged', true), ''),
            (SELECT string_agg(json_build_array('S', 'P', o.id, o.user_id, (o.deleted_at IS NOT NULL)::int, o.is_syncing::int, 1)::text, ',' ORDER BY o.id)
             FROM old_rows o)), true);
        END IF;
        RETURN NULL;
      END $$`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(PREVIOUS);
  }
}

// The definition of LiveBeforeState1765500000000 that this migration replaced.
const PREVIOUS = `CREATE OR REPLACE FUNCTION hub_live_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
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
      END $$`;
