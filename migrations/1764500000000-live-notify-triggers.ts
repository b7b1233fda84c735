import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Live updates (issue 14): every committed change that a `sessionChanged` or `messageAdded`
 * subscriber could see is announced with `pg_notify('hub_live', …)` by statement-level triggers
 * with transition tables. Triggers see every path (the services, the set-based cascade SQL, the
 * foreign-key cascades, `hub purge`), so no writer can forget to announce; NOTIFY is delivered
 * at commit and never after a rollback.
 *
 * A payload is `{"at":"<ISO time>","e":[entry, …]}`, ids only, cut into chunks below 7,500 bytes
 * (PostgreSQL refuses 8,000). Entries:
 *   ["S", kind, sessionId, ownerId, wasDeleted, wasSyncing]  kind C(reated) U(pdated) D(eleted)
 *                                                            R(estored) P(urged); the two flags
 *                                                            (0/1) only matter for P
 *   ["M", messageId, sessionId, ownerId]                     a message was posted
 *   ["B", sessionId, ownerId]                                more than 200 messages were
 *                                                            inserted by one statement: replay
 *   ["X", userId]                                            a user was deleted
 * The owner id lets each process drop a member's events about other members' sessions without a
 * query, and deliver a purge (no row left to read) only to those who could see the session.
 */
export class LiveNotifyTriggers1764500000000 implements MigrationInterface {
  name = 'LiveNotifyTriggers1764500000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE FUNCTION hub_live_emit(entries text[]) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        head text := '{"at":' || to_json(to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) || ',"e":[';
        chunk text := '';
        entry text;
      BEGIN
        IF entries IS NULL THEN RETURN; END IF;
        FOREACH entry IN ARRAY entries LOOP
          IF chunk <> '' AND octet_length(head) + octet_length(chunk) + octet_length(entry) + 3 > 7500 THEN
            PERFORM pg_notify('hub_live', head || chunk || ']}');
            chunk := '';
          END IF;
          chunk := CASE WHEN chunk = '' THEN entry ELSE chunk || ',' || entry END;
        END LOOP;
        IF chunk <> '' THEN PERFORM pg_notify('hub_live', head || chunk || ']}'); END IF;
      END $$`);

    // UPDATED for every session a changed child row belongs to; rows whose session is gone (a
    // purge cascading) are skipped: the purge itself announces PURGED.
    await q.query(`CREATE FUNCTION hub_live_touch(session_ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM hub_live_emit(ARRAY(
          SELECT json_build_array('S', 'U', s.id, s.user_id, 0, 0)::text
          FROM sessions s WHERE s.id = ANY(session_ids) ORDER BY s.id));
      END $$`);

    await q.query(`CREATE FUNCTION hub_live_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
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

    await q.query(`CREATE FUNCTION hub_live_messages() RETURNS trigger LANGUAGE plpgsql AS $$
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
      END $$`);

    // session_skills and session_node_sync: any change shows in the session's fields.
    await q.query(`CREATE FUNCTION hub_live_session_children() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT o.session_id FROM old_rows o));
        ELSE
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT n.session_id FROM new_rows n));
        END IF;
        RETURN NULL;
      END $$`);

    await q.query(`CREATE FUNCTION hub_live_users() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM hub_live_emit(ARRAY(SELECT json_build_array('X', o.id)::text FROM old_rows o ORDER BY o.id));
        RETURN NULL;
      END $$`);

    for (const [table, fn, events] of TRIGGERS) {
      for (const event of events) {
        const rows = event === 'INSERT' ? 'NEW TABLE AS new_rows' : event === 'DELETE' ? 'OLD TABLE AS old_rows' : 'OLD TABLE AS old_rows NEW TABLE AS new_rows';
        await q.query(`CREATE TRIGGER ${triggerName(table, event)} AFTER ${event} ON "${table}"
          REFERENCING ${rows} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`);
      }
    }
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const [table, , events] of TRIGGERS) {
      for (const event of events) await q.query(`DROP TRIGGER ${triggerName(table, event)} ON "${table}"`);
    }
    for (const fn of ['hub_live_users', 'hub_live_session_children', 'hub_live_messages', 'hub_live_sessions']) {
      await q.query(`DROP FUNCTION ${fn}()`);
    }
    await q.query(`DROP FUNCTION hub_live_touch(uuid[])`);
    await q.query(`DROP FUNCTION hub_live_emit(text[])`);
  }
}

type Event = 'INSERT' | 'UPDATE' | 'DELETE';

// A trigger with transition tables serves one event only, hence one trigger per table and event.
const TRIGGERS: [table: string, fn: string, events: Event[]][] = [
  ['sessions', 'hub_live_sessions', ['INSERT', 'UPDATE', 'DELETE']],
  ['messages', 'hub_live_messages', ['INSERT', 'UPDATE', 'DELETE']],
  ['session_skills', 'hub_live_session_children', ['INSERT', 'UPDATE', 'DELETE']],
  ['session_node_sync', 'hub_live_session_children', ['INSERT', 'UPDATE', 'DELETE']],
  ['users', 'hub_live_users', ['DELETE']],
];

function triggerName(table: string, event: Event): string {
  return `${table}_live_${event.toLowerCase()}`;
}
