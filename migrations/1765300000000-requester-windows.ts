import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-requester windows shared by every server process (src/limits/shared-windows.ts), so a
 * per-minute budget (new documents per viewer) holds however many processes serve the viewer.
 * UNLOGGED, like the other scale-out tables: a crash forgets the current minute, nothing more.
 */
export class RequesterWindows1765300000000 implements MigrationInterface {
  name = 'RequesterWindows1765300000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNLOGGED TABLE "hub_requester_windows" (
      "limit_name" text NOT NULL,
      "key" text NOT NULL,
      "started_at" timestamptz(3) NOT NULL,
      "count" integer NOT NULL,
      PRIMARY KEY ("limit_name", "key")
    )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "hub_requester_windows"`);
  }
}
