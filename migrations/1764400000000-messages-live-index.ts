import { MigrationInterface, QueryRunner } from 'typeorm';

/** Live messages of a session, in order: the dashboard's per-session count, newest message and
 * first page read only this partial index (the count as an index-only scan), never the heap rows
 * of deleted messages. */
export class MessagesLiveIndex1764400000000 implements MigrationInterface {
  name = 'MessagesLiveIndex1764400000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX "messages_live_session_id_created_at_id_idx" ON "messages" ("session_id", "created_at", "id") WHERE deleted_at IS NULL`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."messages_live_session_id_created_at_id_idx"`);
  }
}
