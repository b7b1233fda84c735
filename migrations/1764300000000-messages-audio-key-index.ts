import { MigrationInterface, QueryRunner } from 'typeorm';

/** Audio keys may be shared between messages; a purge removes an object from the store only
 * when no remaining message points to it, which this partial index answers without a scan. */
export class MessagesAudioKeyIndex1764300000000 implements MigrationInterface {
  name = 'MessagesAudioKeyIndex1764300000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "messages_audio_key_idx" ON "messages" ("audio_key") WHERE audio_key IS NOT NULL`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."messages_audio_key_idx"`);
  }
}
