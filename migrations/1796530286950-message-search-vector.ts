import { MigrationInterface, QueryRunner } from 'typeorm';
import { backfillSearchVectors, briefly, indexConcurrently, withBuildSettings } from './support/online-ddl';

/** The text search configuration of src/db/text-search.ts (a migration states what it built). */
const VECTOR = `to_tsvector('english'::regconfig, NEW.content)`;
const OLD_INDEX = { name: 'messages_content_search_idx', using: `gin (to_tsvector('english'::regconfig, "content"))` };
const INDEX = 'messages_search_vector_idx';

/**
 * Search reads a stored vector. `messages.search_vector` holds `to_tsvector('english', content)`,
 * written by a trigger on every insert and on every update that changes the content (appending to
 * a streaming message included) or touches the vector: whatever path writes (the ORM, raw SQL,
 * `hub seed`, imports), the column equals its content's vector, as a generated column would. Search
 * then filters, rechecks and ranks with the stored vectors; the expression index made PostgreSQL
 * parse each matching row's content again to rank it (2.1 s for a common word at 400k messages).
 *
 * Not a generated column: adding one rewrites the table under an exclusive lock (minutes at 4M
 * messages, every read and write waiting). Instead, without blocking writes for long:
 * 1. the column (nullable, no default: a catalog change) and the trigger, in one short transaction
 *    that waits at most a second for its lock and tries again, so writers never queue behind it;
 * 2. the existing rows, in batches of pages (a transaction each, rows locked by others skipped and
 *    taken by a final sweep), each row's vector written by the trigger;
 * 3. NOT NULL, proved by a CHECK validated without blocking writes (SET NOT NULL then needs no scan);
 * 4. the GIN index on the column, built CONCURRENTLY (one left invalid by an interrupted run is
 *    rebuilt); then the expression index is dropped CONCURRENTLY. Search is served by one or the
 *    other throughout.
 * Each step can be run again, so an interrupted migration resumes. Every backfilled batch is an
 * UPDATE of messages, so the live triggers announce its sessions as updated, once per batch.
 */
export class MessageSearchVector1796530286950 implements MigrationInterface {
  name = 'MessageSearchVector1796530286950';
  transaction = false as const;

  /** `pagesPerBatch`: heap pages per backfill transaction (about 60 seeded messages a page). */
  constructor(private readonly pagesPerBatch = 100) {}

  public async up(q: QueryRunner): Promise<void> {
    await withBuildSettings(q, async () => {
      await briefly(q, [
        `ALTER TABLE messages ADD COLUMN IF NOT EXISTS search_vector tsvector`,
        `CREATE OR REPLACE FUNCTION hub_message_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            NEW.search_vector := ${VECTOR};
            RETURN NEW;
          END $$`,
        `DROP TRIGGER IF EXISTS messages_search_vector_insert ON messages`,
        `DROP TRIGGER IF EXISTS messages_search_vector_update ON messages`,
        `CREATE TRIGGER messages_search_vector_insert BEFORE INSERT ON messages
          FOR EACH ROW EXECUTE FUNCTION hub_message_search_vector()`,
        // A write of the vector itself (NULL included: the backfill's request) is overwritten too.
        `CREATE TRIGGER messages_search_vector_update BEFORE UPDATE ON messages FOR EACH ROW
          WHEN (NEW.content IS DISTINCT FROM OLD.content OR NEW.search_vector IS DISTINCT FROM OLD.search_vector
                OR NEW.search_vector IS NULL)
          EXECUTE FUNCTION hub_message_search_vector()`,
      ]);
      await backfillSearchVectors(q, this.pagesPerBatch);
      await briefly(q, [
        `ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_search_vector_set`,
        `ALTER TABLE messages ADD CONSTRAINT messages_search_vector_set CHECK (search_vector IS NOT NULL) NOT VALID`,
      ]);
      await q.query(`ALTER TABLE messages VALIDATE CONSTRAINT messages_search_vector_set`);
      await briefly(q, [
        `ALTER TABLE messages ALTER COLUMN search_vector SET NOT NULL`,
        `ALTER TABLE messages DROP CONSTRAINT messages_search_vector_set`,
      ]);
      await indexConcurrently(q, INDEX, 'messages', 'gin (search_vector)');
      await q.query(`DROP INDEX CONCURRENTLY IF EXISTS "${OLD_INDEX.name}"`);
    });
  }

  // Reverting runs inside a transaction (TypeORM ignores `transaction` there): plain DDL.
  public async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS "${OLD_INDEX.name}" ON messages USING ${OLD_INDEX.using}`);
    await q.query(`DROP INDEX IF EXISTS "${INDEX}"`);
    await q.query(`DROP TRIGGER IF EXISTS messages_search_vector_update ON messages`);
    await q.query(`DROP TRIGGER IF EXISTS messages_search_vector_insert ON messages`);
    await q.query(`DROP FUNCTION IF EXISTS hub_message_search_vector()`);
    await q.query(`ALTER TABLE messages DROP COLUMN IF EXISTS search_vector`);
  }
}
