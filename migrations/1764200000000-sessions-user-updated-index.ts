import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A member's sessions ordered by `updatedAt` (`sessions(orderBy: UPDATED_AT_DESC)`) walk this
 * index from the cursor; without it the planner reads every session by `updated_at` and
 * filters out other users' rows, which grows with the whole table, not the page.
 */
export class SessionsUserUpdatedIndex1764200000000 implements MigrationInterface {
  name = 'SessionsUserUpdatedIndex1764200000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "sessions_user_id_updated_at_id_idx" ON "sessions" ("user_id", "updated_at", "id")`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."sessions_user_id_updated_at_id_idx"`);
  }
}
