import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Charges of more than one unit (an expensive new document costs several): a refused charge adds
 * nothing to its window, so the upsert records whether the last charge fitted (its RETURNING sees
 * only the new row).
 */
export class RequesterWindowsAccepted1765610000000 implements MigrationInterface {
  name = 'RequesterWindowsAccepted1765610000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "hub_requester_windows" ADD COLUMN "accepted" boolean NOT NULL DEFAULT true`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "hub_requester_windows" DROP COLUMN "accepted"`);
  }
}
