import { createDataSource } from '../ormconfig';
import { pendingSchemaDiff } from '../src/db/schema-diff';
import { freshDatabase } from './databases';
import { testDatabaseUrl } from './harness';

describe('migrations', () => {
  it('leave no difference between the entities and the migrated schema', async () => {
    const ds = createDataSource({ url: testDatabaseUrl(), poolSize: 1 });
    await ds.initialize();
    try {
      expect(await pendingSchemaDiff(ds)).toEqual({ up: [], down: [] });
    } finally {
      await ds.destroy();
    }
  });

  it('revert to an empty schema and apply again', async () => {
    const db = await freshDatabase(testDatabaseUrl());
    const ds = createDataSource({ url: db.url, poolSize: 1 });
    await ds.initialize();
    try {
      const tables = async () =>
        (await ds.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map(
          (r: { tablename: string }) => r.tablename,
        );
      expect(await tables()).toEqual(['audio_uploads', 'hub_persisted_queries', 'hub_requester_windows', 'hub_write_positions', 'message_deletions', 'messages', 'migrations', 'session_message_counts', 'session_node_sync', 'session_skills', 'sessions', 'skills', 'users']);
      while ((await ds.query('SELECT count(*)::int AS n FROM migrations'))[0].n > 0) await ds.undoLastMigration();
      expect(await tables()).toEqual(['migrations']);
      expect(await ds.query(`SELECT typname FROM pg_type WHERE typname IN ('user_role', 'message_role', 'sync_status')`)).toEqual([]);
      await ds.runMigrations();
      expect(await pendingSchemaDiff(ds)).toEqual({ up: [], down: [] });
    } finally {
      await ds.destroy();
      await db.drop();
    }
  });

  it('create every foreign key with ON DELETE CASCADE', async () => {
    const ds = createDataSource({ url: testDatabaseUrl(), poolSize: 1 });
    await ds.initialize();
    try {
      const fks = await ds.query(`
        SELECT conname, confdeltype FROM pg_constraint
        WHERE contype = 'f' AND connamespace = 'public'::regnamespace ORDER BY conname`);
      expect(fks).toEqual(
        ['audio_uploads_message_id_fkey', 'audio_uploads_session_id_fkey', 'audio_uploads_user_id_fkey', 'message_deletions_session_id_fkey', 'messages_session_id_fkey', 'session_message_counts_session_id_fkey', 'session_node_sync_session_id_fkey', 'session_skills_session_id_fkey', 'session_skills_skill_id_fkey', 'sessions_user_id_fkey'].map(
          (conname) => ({ conname, confdeltype: 'c' }),
        ),
      );
      const stamps = await ds.query(`
        SELECT table_name, column_name, data_type, datetime_precision FROM information_schema.columns
        WHERE table_schema = 'public' AND data_type LIKE 'timestamp%' AND table_name <> 'migrations'`);
      expect(stamps.length).toBeGreaterThan(8);
      for (const column of stamps) {
        expect(column).toMatchObject({ data_type: 'timestamp with time zone', datetime_precision: 3 });
      }
    } finally {
      await ds.destroy();
    }
  });
});
