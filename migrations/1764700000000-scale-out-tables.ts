import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two small tables that let any number of server processes answer alike (docs/SCALING.md). Both
 * are UNLOGGED: they are caches of positions and documents, cheap to write, emptied by a crash
 * (clients then re-send a query, and reads wait for nothing), and never replicated, so they are
 * read and written on the primary only.
 * - `hub_write_positions`: each viewer's last write as a WAL position, so a read on a replica
 *   by any process waits until the replica has replayed it (read-your-writes).
 * - `hub_persisted_queries`: Apollo's automatic persisted queries by sha256, bounded.
 */
export class ScaleOutTables1764700000000 implements MigrationInterface {
  name = 'ScaleOutTables1764700000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNLOGGED TABLE "hub_write_positions" (
      "user_id" uuid PRIMARY KEY,
      "lsn" pg_lsn NOT NULL,
      "updated_at" timestamptz(3) NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE UNLOGGED TABLE "hub_persisted_queries" (
      "key" text PRIMARY KEY,
      "document" text NOT NULL,
      "used_at" timestamptz(3) NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX "hub_persisted_queries_used_at_idx" ON "hub_persisted_queries" ("used_at")`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "hub_persisted_queries"`);
    await q.query(`DROP TABLE "hub_write_positions"`);
  }
}
