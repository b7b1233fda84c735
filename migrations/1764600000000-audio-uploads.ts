import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audio keys get an owner: `audio_uploads` records each upload a user may make into a session
 * (key chosen by the server, content type, exact size, expiry) and, once attached, the message
 * holding its key. Existing messages' keys are bound here: one attached upload per distinct key,
 * owned by the owner of the session of the first message holding it, so those keys keep working
 * (`Audio.url` is derived from the message row) and, like every attached key, can never be
 * attached again. `down` drops the table; the messages keep their keys.
 */
export class AudioUploads1764600000000 implements MigrationInterface {
  name = 'AudioUploads1764600000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "audio_uploads" (
      "key" character varying(512) NOT NULL,
      "user_id" uuid NOT NULL,
      "session_id" uuid NOT NULL,
      "content_type" character varying(127) NOT NULL,
      "byte_size" integer NOT NULL,
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "expires_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
      "completed_at" TIMESTAMP(3) WITH TIME ZONE,
      "message_id" uuid,
      CONSTRAINT "audio_uploads_byte_size_positive" CHECK (byte_size > 0),
      CONSTRAINT "audio_uploads_pkey" PRIMARY KEY ("key"),
      CONSTRAINT "audio_uploads_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
      CONSTRAINT "audio_uploads_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
      CONSTRAINT "audio_uploads_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    // The cascades of users and sessions find their uploads here.
    await q.query(`CREATE INDEX "audio_uploads_user_id_idx" ON "audio_uploads" ("user_id")`);
    await q.query(`CREATE INDEX "audio_uploads_session_id_idx" ON "audio_uploads" ("session_id")`);
    // At most one upload per message.
    await q.query(`CREATE UNIQUE INDEX "audio_uploads_message_id_key" ON "audio_uploads" ("message_id")`);
    // The garbage collector reads only unattached uploads, oldest deadline first.
    await q.query(`CREATE INDEX "audio_uploads_unattached_expires_at_idx" ON "audio_uploads" ("expires_at") WHERE message_id IS NULL`);

    await q.query(`
      INSERT INTO audio_uploads (key, user_id, session_id, content_type, byte_size, created_at, expires_at, completed_at, message_id)
      SELECT DISTINCT ON (m.audio_key)
             m.audio_key, s.user_id, m.session_id, m.audio_content_type, m.audio_byte_size,
             m.created_at, m.created_at, m.created_at, m.id
      FROM messages m JOIN sessions s ON s.id = m.session_id
      WHERE m.audio_key IS NOT NULL AND m.audio_byte_size > 0
      ORDER BY m.audio_key, m.created_at, m.id`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "audio_uploads"`);
  }
}
