import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Messages of one session are ordered by when they committed (issue 14: a `messageAdded` resume
 * from a cursor must miss nothing). `created_at` used to default to `now()`, the transaction's
 * start: a post that began first but waited for the session's lock committed after a later one
 * with an earlier time, and a client resuming after the later one's cursor never saw it. Two posts
 * in one millisecond shared a time and were ordered by their random ids, not by their commits.
 *
 * `hub_message_created_at(session)` is the time a message of that session is stamped with, called
 * in its INSERT (the message subscriber, src/consistency/cascades.ts `messageCreatedAt`): it takes
 * the session's row lock (a no-op when the writer already holds it, as `postMessage` does), so the
 * session's writers take turns, then returns the clock, in milliseconds, strictly after every
 * message the session has. A post that lands in the millisecond of the previous one waits for the
 * next millisecond (at most ~1 ms, under the lock), so times are never ahead of the clock; only a
 * session whose newest message is stamped more than 2 ms ahead of it (imported data, a clock set
 * back) gets 1 ms past that message instead. Within a session, `created_at` order is commit order.
 */
export class MessageOrder1764800000000 implements MigrationInterface {
  name = 'MessageOrder1764800000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE FUNCTION hub_message_created_at(session uuid) RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
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
      END $$`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION hub_message_created_at(uuid)`);
  }
}
