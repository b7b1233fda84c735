import { createDataSource } from '../ormconfig';
import { verifyToken } from '../src/auth/tokens';
import { runHub } from './cli-runner';
import { seed } from '../src/seed/seed';
import { freshDatabase } from './databases';
import { TEST_SECRET, testDatabaseUrl } from './harness';

/** Runs `hub …` in-process against `url`. */
const hub = (url: string, ...argv: string[]) => runHub({ DATABASE_URL: url }, ...argv);

describe('hub CLI', () => {
  it('creates a user and prints its id, then a token that names it', async () => {
    const email = `cli-${Date.now()}@test.hub`;
    const created = await hub(testDatabaseUrl(), 'user:create', '--email', email, '--name', 'Cli User', '--role', 'admin');
    expect(created.code).toBe(0);
    const id = created.out.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const token = await hub(testDatabaseUrl(), 'token', '--email', email.toUpperCase(), '--ttl', '5m');
    expect(token.code).toBe(0);
    expect(verifyToken(TEST_SECRET, token.out.trim())).toBe(id);
  });

  it('refuses a duplicate email with a clear message and exit code 1', async () => {
    const email = `dup-${Date.now()}@test.hub`;
    expect((await hub(testDatabaseUrl(), 'user:create', '--email', email, '--name', 'A')).code).toBe(0);
    const again = await hub(testDatabaseUrl(), 'user:create', '--email', email, '--name', 'B');
    expect(again.code).toBe(1);
    expect(again.err).toContain('already exists');
  });

  it.each([
    [['bogus'], 'unknown command'],
    [['user:create', '--email', 'a@b.c'], '--name is required'],
    [['user:create', '--email', 'a@b.c', '--name', 'A', '--role', 'owner'], '--role must be admin or member'],
    [['seed', '--users', 'many'], '--users must be a whole number'],
    [['seed', '--unknown'], "Unknown option '--unknown'"],
    [['token', '--email', 'a@b.c', '--ttl', 'forever'], '--ttl must be a duration'],
  ])('prints usage and exits 2 for %j', async (argv, message) => {
    const result = await hub(testDatabaseUrl(), ...argv);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
    expect(result.err).toContain('Usage: hub');
  });

  it('fails with exit code 1 when the user of a token does not exist', async () => {
    const result = await hub(testDatabaseUrl(), 'token', '--email', 'nobody@nowhere.hub');
    expect(result.code).toBe(1);
    expect(result.err).toContain('no user with email');
  });
});

describe('seed', () => {
  const options = { users: 20, sessions: 200, messages: 2000, skills: 10, seed: 'det' };
  const snapshot = `
    SELECT (SELECT md5(string_agg(id::text || email || role, ',' ORDER BY id)) FROM users) AS users,
           (SELECT md5(string_agg(id::text || user_id || title || created_at || coalesce(deleted_at::text, '') || is_syncing, ',' ORDER BY id)) FROM sessions) AS sessions,
           (SELECT md5(string_agg(id::text || session_id || role || content || created_at || coalesce(deleted_at::text, ''), ',' ORDER BY id)) FROM messages) AS messages,
           (SELECT md5(string_agg(session_id::text || skill_id, ',' ORDER BY session_id, skill_id)) FROM session_skills) AS links,
           (SELECT md5(string_agg(session_id::text || node_id || status, ',' ORDER BY session_id, node_id)) FROM session_node_sync) AS sync`;

  it('is deterministic for a given seed and idempotent on a second run', async () => {
    const [a, b] = await Promise.all([freshDatabase(testDatabaseUrl()), freshDatabase(testDatabaseUrl())]);
    const dsA = createDataSource({ url: a.url, poolSize: 1 });
    const dsB = createDataSource({ url: b.url, poolSize: 1 });
    await Promise.all([dsA.initialize(), dsB.initialize()]);
    try {
      const first = await seed(dsA, options);
      expect(first).toMatchObject({ users: 20, sessions: 200, messages: 2000, skills: 10, sessionSkills: 600 });
      await seed(dsB, options);
      expect(await dsA.query(snapshot)).toEqual(await dsB.query(snapshot));
      const again = await seed(dsA, options);
      expect(again).toMatchObject({ users: 0, sessions: 0, messages: 0, skills: 0, sessionSkills: 0, nodeSync: 0 });
    } finally {
      await Promise.all([dsA.destroy(), dsB.destroy()]);
      await Promise.all([a.drop(), b.drop()]);
    }
  });

  it('keeps the derived columns consistent: is_syncing, deleted sessions, audio', async () => {
    const db = await freshDatabase(testDatabaseUrl());
    const ds = createDataSource({ url: db.url, poolSize: 1 });
    await ds.initialize();
    try {
      await seed(ds, { ...options, seed: 'consistency' });
      const [row] = await ds.query(`
        SELECT
          (SELECT count(*)::int FROM sessions s WHERE s.is_syncing <> EXISTS (
             SELECT 1 FROM session_node_sync n WHERE n.session_id = s.id AND n.status IN ('PENDING', 'SYNCING'))) AS wrong_syncing,
          (SELECT count(*)::int FROM sessions WHERE is_syncing) AS syncing,
          (SELECT count(*)::int FROM sessions WHERE deleted_at IS NOT NULL) AS deleted,
          (SELECT count(*)::int FROM messages m JOIN sessions s ON s.id = m.session_id
             WHERE s.deleted_at IS NOT NULL AND m.deleted_at IS DISTINCT FROM s.deleted_at) AS live_in_deleted,
          (SELECT count(*)::int FROM messages WHERE audio_key IS NOT NULL) AS audio,
          (SELECT count(*)::int FROM messages WHERE audio_key LIKE '/%' OR audio_key LIKE '%://%') AS audio_paths`);
      expect(row.wrong_syncing).toBe(0);
      expect(row.syncing).toBeGreaterThan(0);
      expect(row.deleted).toBeGreaterThan(0);
      expect(row.live_in_deleted).toBe(0);
      expect(row.audio).toBeGreaterThan(0);
      expect(row.audio_paths).toBe(0);
    } finally {
      await ds.destroy();
      await db.drop();
    }
  });
});
