import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Messages as the AI writes them (issue 28).
 *
 * - `messages.status` (`message_status`: STREAMING, COMPLETE, FAILED); every existing message is
 *   COMPLETE (a constant default: no table rewrite).
 * - Token usage in three nullable columns of the message itself (`input_tokens`, `output_tokens`,
 *   `model`), not a table of its own: usage is one-to-one with a message, read with it on every
 *   path that reads the row, and summed per session or user by one aggregate over the messages a
 *   list already reads; a table would add a join to those reads and a second row to each finish.
 *   The two counts are null together (no usage reported), a model only comes with counts.
 * - `changed_at`: the last append or finish of a streamed message, on its session's message clock
 *   (`hub_message_created_at`, now counting these stamps too), so appends take their place in
 *   the commit order that `messageChanged` cursors rest on. Null for a message never changed.
 * - `hub_live_messages` announces each such change as
 *     ["G", messageId, sessionId, ownerId, "<changed_at, ISO>", offset, length]
 *   (offset and length in characters, i.e. code points, as `char_length` counts): the delta
 *   itself never rides in the payload (NOTIFY holds 8,000 bytes, a delta up to 32,000 characters);
 *   subscribers read it by (id, offset).
 * - `messages_streaming_idx`: the few messages still STREAMING, for the sweep that fails the ones
 *   left longer than HUB_STREAM_TIMEOUT.
 */
export class StreamedMessages1765660000000 implements MigrationInterface {
  name = 'StreamedMessages1765660000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TYPE "public"."message_status" AS ENUM('STREAMING', 'COMPLETE', 'FAILED')`);
    await q.query(`ALTER TABLE "messages"
      ADD "status" "public"."message_status" NOT NULL DEFAULT 'COMPLETE',
      ADD "input_tokens" integer,
      ADD "output_tokens" integer,
      ADD "model" character varying(200),
      ADD "changed_at" TIMESTAMP(3) WITH TIME ZONE,
      ADD CONSTRAINT "messages_usage_complete" CHECK ((input_tokens IS NULL) = (output_tokens IS NULL) AND (model IS NULL OR input_tokens IS NOT NULL)),
      ADD CONSTRAINT "messages_usage_non_negative" CHECK (input_tokens >= 0 AND output_tokens >= 0)`);
    await q.query(`CREATE INDEX "messages_session_id_changed_at_idx" ON "messages" ("session_id", "changed_at") WHERE changed_at IS NOT NULL`);
    await q.query(`CREATE INDEX "messages_streaming_idx" ON "messages" ("session_id") WHERE status = 'STREAMING'`);
    await q.query(CLOCK);
    await q.query(LIVE_MESSAGES);
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const definition of PREVIOUS) await q.query(definition);
    await q.query(`DROP INDEX "public"."messages_streaming_idx"`);
    await q.query(`DROP INDEX "public"."messages_session_id_changed_at_idx"`);
    await q.query(`ALTER TABLE "messages" DROP CONSTRAINT "messages_usage_non_negative", DROP CONSTRAINT "messages_usage_complete",
      DROP COLUMN "changed_at", DROP COLUMN "model", DROP COLUMN "output_tokens", DROP COLUMN "input_tokens", DROP COLUMN "status"`);
    await q.query(`DROP TYPE "public"."message_status"`);
  }
}

/** The session's message clock: strictly after every post, logged deletion and append or finish
 * of the session, under the session's lock (as LiveBeforeState's, which it replaces). */
const CLOCK = `CREATE OR REPLACE FUNCTION hub_message_created_at(session uuid) RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        newest timestamptz;
        stamp timestamptz;
      BEGIN
        PERFORM 1 FROM sessions s WHERE s.id = session FOR NO KEY UPDATE;
        SELECT greatest(
                 (SELECT max(m.created_at) FROM messages m WHERE m.session_id = session),
                 (SELECT max(m.changed_at) FROM messages m WHERE m.session_id = session),
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
      END $$`;

/** LiveBeforeState's `hub_live_messages`, announcing appends and finishes (G) too. */
const LIVE_MESSAGES = `CREATE OR REPLACE FUNCTION hub_live_messages() RETURNS trigger LANGUAGE plpgsql AS $$
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
          -- Appends and finishes of live messages in live sessions, at their clock stamps.
          PERFORM hub_live_emit(ARRAY(
            SELECT json_build_array('G', n.id, n.session_id, s.user_id,
                     to_char(n.changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                     char_length(o.content), char_length(n.content) - char_length(o.content))::text
            FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN sessions s ON s.id = n.session_id
            WHERE n.changed_at IS DISTINCT FROM o.changed_at AND n.changed_at IS NOT NULL
              AND n.deleted_at IS NULL AND s.deleted_at IS NULL
            ORDER BY n.changed_at, n.id));
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT n.session_id FROM new_rows n));
        ELSE
          PERFORM hub_live_touch(ARRAY(SELECT DISTINCT o.session_id FROM old_rows o));
        END IF;
        RETURN NULL;
      END $$`;

/** What `up` replaced: LiveBeforeState1765500000000's definitions. */
const PREVIOUS = [
  `CREATE OR REPLACE FUNCTION hub_message_created_at(session uuid) RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
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
      END $$`,
  `CREATE OR REPLACE FUNCTION hub_live_messages() RETURNS trigger LANGUAGE plpgsql AS $$
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
      END $$`,
];
