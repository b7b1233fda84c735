import { MigrationInterface, QueryRunner } from 'typeorm';

const INDEXES = [
  { name: 'messages_content_search_idx', table: 'messages', using: `gin (to_tsvector('english'::regconfig, "content"))` },
  { name: 'sessions_title_search_idx', table: 'sessions', using: `gin (to_tsvector('english'::regconfig, "title"))` },
  // Activity over a time range reads messages by time across sessions.
  { name: 'messages_created_at_idx', table: 'messages', using: 'btree ("created_at")' },
];

/**
 * Dashboards. Full-text search over message contents and session titles: GIN indexes on the expression
 * `to_tsvector('english', …)` (src/db/text-search.ts writes the same expression), so PostgreSQL
 * keeps them current on every write, whatever path wrote the row; and messages by time, for
 * activity over a range. Built `CONCURRENTLY`, outside a
 * transaction, so writes go on while an existing database is indexed; an index left invalid by an
 * interrupted build is dropped and built again. No statement timeout: a large table takes minutes.
 */
export class MessageSearch1765427000000 implements MigrationInterface {
  name = 'MessageSearch1765427000000';
  transaction = false as const;

  public async up(q: QueryRunner): Promise<void> {
    await q.query('SET statement_timeout = 0');
    try {
      for (const { name, table, using } of INDEXES) {
        await q.query(`DROP INDEX CONCURRENTLY IF EXISTS "${name}"`);
        await q.query(`CREATE INDEX CONCURRENTLY "${name}" ON "${table}" USING ${using}`);
      }
    } finally {
      await q.query('RESET statement_timeout');
    }
  }

  // Reverting runs inside a transaction (TypeORM ignores `transaction` there): a plain DROP.
  public async down(q: QueryRunner): Promise<void> {
    for (const { name } of [...INDEXES].reverse()) await q.query(`DROP INDEX IF EXISTS "${name}"`);
  }
}
