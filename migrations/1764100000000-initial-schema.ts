import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The initial data model. Generated from the entities (`pendingSchemaDiff`), then ordered
 * table by table with the foreign keys next to their tables. Every foreign key cascades on
 * delete, mirroring what the entity subscribers do at the ORM level.
 */
export class InitialSchema1764100000000 implements MigrationInterface {
  name = 'InitialSchema1764100000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TYPE "public"."user_role" AS ENUM('ADMIN', 'MEMBER')`);
    await q.query(`CREATE TYPE "public"."message_role" AS ENUM('USER', 'ASSISTANT', 'SYSTEM', 'TOOL')`);
    await q.query(`CREATE TYPE "public"."sync_status" AS ENUM('PENDING', 'SYNCING', 'SYNCED', 'FAILED')`);

    await q.query(`CREATE TABLE "users" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "email" character varying(254) NOT NULL,
      "display_name" character varying(100) NOT NULL,
      "role" "public"."user_role" NOT NULL DEFAULT 'MEMBER',
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "users_pkey" PRIMARY KEY ("id"))`);
    await q.query(`CREATE UNIQUE INDEX "users_email_key" ON "users" ("email")`);
    await q.query(`CREATE INDEX "users_created_at_id_idx" ON "users" ("created_at", "id")`);

    await q.query(`CREATE TABLE "sessions" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "user_id" uuid NOT NULL,
      "title" character varying(200) NOT NULL,
      "is_syncing" boolean NOT NULL DEFAULT false,
      "version" integer NOT NULL DEFAULT '1',
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "deleted_at" TIMESTAMP(3) WITH TIME ZONE,
      CONSTRAINT "sessions_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await q.query(`CREATE INDEX "sessions_created_at_id_idx" ON "sessions" ("created_at", "id")`);
    await q.query(`CREATE INDEX "sessions_updated_at_id_idx" ON "sessions" ("updated_at", "id")`);
    await q.query(`CREATE INDEX "sessions_user_id_created_at_id_idx" ON "sessions" ("user_id", "created_at", "id")`);
    // "Which sessions are syncing" reads only this small partial index.
    await q.query(`CREATE INDEX "sessions_syncing_created_at_id_idx" ON "sessions" ("created_at", "id") WHERE is_syncing`);
    // The purge job finds long soft-deleted sessions here.
    await q.query(`CREATE INDEX "sessions_deleted_at_idx" ON "sessions" ("deleted_at") WHERE deleted_at IS NOT NULL`);

    await q.query(`CREATE TABLE "messages" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "session_id" uuid NOT NULL,
      "role" "public"."message_role" NOT NULL,
      "content" text NOT NULL,
      "audio_key" character varying(512),
      "audio_content_type" character varying(127),
      "audio_byte_size" integer,
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "deleted_at" TIMESTAMP(3) WITH TIME ZONE,
      CONSTRAINT "messages_audio_complete" CHECK ((audio_key IS NULL) = (audio_content_type IS NULL) AND (audio_key IS NULL) = (audio_byte_size IS NULL)),
      CONSTRAINT "messages_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "messages_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await q.query(`CREATE INDEX "messages_session_id_created_at_id_idx" ON "messages" ("session_id", "created_at", "id")`);

    await q.query(`CREATE TABLE "skills" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "name" character varying(64) NOT NULL,
      "description" text,
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "deleted_at" TIMESTAMP(3) WITH TIME ZONE,
      CONSTRAINT "skills_pkey" PRIMARY KEY ("id"))`);
    await q.query(`CREATE UNIQUE INDEX "skills_name_live_key" ON "skills" ("name") WHERE deleted_at IS NULL`);
    await q.query(`CREATE INDEX "skills_created_at_id_idx" ON "skills" ("created_at", "id")`);

    await q.query(`CREATE TABLE "session_skills" (
      "session_id" uuid NOT NULL,
      "skill_id" uuid NOT NULL,
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "session_skills_pkey" PRIMARY KEY ("session_id", "skill_id"),
      CONSTRAINT "session_skills_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
      CONSTRAINT "session_skills_skill_id_fkey" FOREIGN KEY ("skill_id") REFERENCES "skills"("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await q.query(`CREATE INDEX "session_skills_skill_id_session_id_idx" ON "session_skills" ("skill_id", "session_id")`);

    await q.query(`CREATE TABLE "session_node_sync" (
      "session_id" uuid NOT NULL,
      "node_id" character varying(128) NOT NULL,
      "status" "public"."sync_status" NOT NULL,
      "error" text,
      "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "session_node_sync_pkey" PRIMARY KEY ("session_id", "node_id"),
      CONSTRAINT "session_node_sync_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await q.query(`CREATE INDEX "session_node_sync_node_id_idx" ON "session_node_sync" ("node_id")`);
  }

  public async down(q: QueryRunner): Promise<void> {
    // Dropping a table drops its indexes and constraints; children go before parents.
    await q.query(`DROP TABLE "session_node_sync"`);
    await q.query(`DROP TABLE "session_skills"`);
    await q.query(`DROP TABLE "skills"`);
    await q.query(`DROP TABLE "messages"`);
    await q.query(`DROP TABLE "sessions"`);
    await q.query(`DROP TABLE "users"`);
    await q.query(`DROP TYPE "public"."sync_status"`);
    await q.query(`DROP TYPE "public"."message_role"`);
    await q.query(`DROP TYPE "public"."user_role"`);
  }
}
