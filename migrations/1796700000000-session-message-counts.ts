import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `Session.messageCount` of a live session kept, not counted on every read (issue 26). A
 * dashboard of N sessions counted each one's messages on the live-messages index: O(messages)
 * per session per poll, half of PostgreSQL's time for the 100-session page at scale 1 (sessions of
 * 50 messages). `session_message_counts` holds each session's messages that are not deleted,
 * kept by statement-level triggers on `messages` in the writing transaction (every path that
 * writes messages, raw SQL and cascades included), so a reader sees the count of the same
 * snapshot as the messages. A session without a row has none. A soft-deleted session lists the
 * messages deleted with it, which are still counted on read (message.sql.ts).
 */
export class SessionMessageCounts1796700000000 implements MigrationInterface {
  name = 'SessionMessageCounts1796700000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE session_message_counts (
      session_id uuid PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
      live integer NOT NULL)`);

    // A statement's changes summed per session and applied in one upsert, in session order
    // (concurrent statements over several sessions take the rows' locks in the same order). A
    // session removed by the same statement's cascade (a purge) has no row left to count for.
    await q.query(`CREATE FUNCTION hub_count_messages(session_ids uuid[], deltas int[]) RETURNS void LANGUAGE sql AS $$
      INSERT INTO session_message_counts AS c (session_id, live)
      SELECT d.session_id, d.delta FROM (
        SELECT u.session_id, sum(u.delta)::int AS delta FROM unnest(session_ids, deltas) AS u(session_id, delta) GROUP BY 1) d
      WHERE d.delta <> 0 AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = d.session_id)
      ORDER BY d.session_id
      ON CONFLICT (session_id) DO UPDATE SET live = c.live + excluded.live $$`);
    // +1 for each message a statement made live (inserted, or restored), -1 for each it took away.
    await q.query(`CREATE FUNCTION hub_message_counts() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        ids uuid[];
        deltas int[];
      BEGIN
        IF TG_OP = 'INSERT' THEN
          SELECT array_agg(n.session_id), array_agg(1) INTO ids, deltas FROM new_rows n WHERE n.deleted_at IS NULL;
        ELSIF TG_OP = 'DELETE' THEN
          SELECT array_agg(o.session_id), array_agg(-1) INTO ids, deltas FROM old_rows o WHERE o.deleted_at IS NULL;
        ELSE
          SELECT array_agg(x.session_id), array_agg(x.delta) INTO ids, deltas FROM (
            SELECT n.session_id, 1 AS delta FROM new_rows n WHERE n.deleted_at IS NULL
            UNION ALL
            SELECT o.session_id, -1 FROM old_rows o WHERE o.deleted_at IS NULL) x;
        END IF;
        IF ids IS NOT NULL THEN PERFORM hub_count_messages(ids, deltas); END IF;
        RETURN NULL;
      END $$`);
    for (const [event, tables] of [
      ['INSERT', 'NEW TABLE AS new_rows'],
      ['UPDATE', 'OLD TABLE AS old_rows NEW TABLE AS new_rows'],
      ['DELETE', 'OLD TABLE AS old_rows'],
    ]) {
      await q.query(`CREATE TRIGGER messages_count_${event.toLowerCase()} AFTER ${event} ON messages
        REFERENCING ${tables} FOR EACH STATEMENT EXECUTE FUNCTION hub_message_counts()`);
    }
    await q.query(`INSERT INTO session_message_counts (session_id, live)
      SELECT session_id, count(*) FROM messages WHERE deleted_at IS NULL GROUP BY session_id`);
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const event of ['insert', 'update', 'delete']) await q.query(`DROP TRIGGER messages_count_${event} ON messages`);
    await q.query('DROP FUNCTION hub_message_counts()');
    await q.query('DROP FUNCTION hub_count_messages(uuid[], int[])');
    await q.query('DROP TABLE session_message_counts');
  }
}
