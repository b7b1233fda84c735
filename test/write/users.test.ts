import { randomUUID } from 'node:crypto';
import { freshDatabase } from '../databases';
import { factories } from '../factories';
import { codes, invalidFields, startTestServer, testDatabaseUrl, TestServer, useTestServer } from '../harness';
import { CREATE_USER, DELETE_USERS } from './documents';
import { expectInvariants } from '../invariants';

const { t, f } = useTestServer({}, { invariants: true });

describe('createUser', () => {
  it('creates a user for an ADMIN, lower-casing the email', async () => {
    const admin = await f.admin();
    const email = `New-${randomUUID().slice(0, 8)}@Test.Hub`;
    const result = await t.gql(CREATE_USER, { input: { email, displayName: ' New ' } }, { as: admin });
    expect(result.data.createUser).toMatchObject({ email: email.toLowerCase(), displayName: 'New', role: 'MEMBER' });
  });

  it('is CONFLICT for a taken email, FORBIDDEN for a MEMBER, BAD_USER_INPUT for a bad email and empty name', async () => {
    const [admin, member] = [await f.admin(), await f.user()];
    expect(codes(await t.gql(CREATE_USER, { input: { email: member.email.toUpperCase(), displayName: 'X' } }, { as: admin }))).toEqual([
      'CONFLICT',
    ]);
    expect(codes(await t.gql(CREATE_USER, { input: { email: 'a@b.hub', displayName: 'X' } }, { as: member }))).toEqual(['FORBIDDEN']);
    const bad = await t.gql(CREATE_USER, { input: { email: 'not-an-email', displayName: '' } }, { as: admin });
    expect(invalidFields(bad).sort()).toEqual(['input.displayName', 'input.email']);
  });
});

describe('deleteUsers', () => {
  it('hard-deletes users with their sessions, messages, links and node sync rows, counting only known ids', async () => {
    const admin = await f.admin();
    const [a, b, bystander] = [await f.user(), await f.user(), await f.user()];
    const skill = await f.skill();
    const sessions = [await f.session(a), await f.session(a), await f.session(b)];
    for (const s of sessions) {
      await f.message(s);
      await f.link(s, skill);
      await f.nodeSync(s, 'node-x', 'SYNCING' as never);
    }
    const kept = await f.session(bystander);
    await f.link(kept, skill);
    const result = await t.gql(DELETE_USERS, { ids: [a.id, b.id, a.id, randomUUID()] }, { as: admin });
    expect(result.data).toEqual({ deleteUsers: { deletedCount: 2 } });
    const ids = sessions.map((s) => s.id);
    expect(await t.dataSource.query('SELECT id FROM users WHERE id = ANY($1)', [[a.id, b.id]])).toEqual([]);
    expect(await t.dataSource.query('SELECT id FROM sessions WHERE id = ANY($1)', [ids])).toEqual([]);
    expect(await t.dataSource.query('SELECT id FROM messages WHERE session_id = ANY($1)', [ids])).toEqual([]);
    expect(await t.dataSource.query('SELECT 1 FROM session_skills WHERE session_id = ANY($1)', [ids])).toEqual([]);
    expect(await t.dataSource.query('SELECT 1 FROM session_node_sync WHERE session_id = ANY($1)', [ids])).toEqual([]);
    expect(await t.dataSource.query('SELECT 1 FROM session_skills WHERE session_id = $1', [kept.id])).toHaveLength(1);
  });

  it('is FORBIDDEN for a MEMBER and BAD_USER_INPUT for more than 100 ids', async () => {
    const member = await f.user();
    expect(codes(await t.gql(DELETE_USERS, { ids: [member.id] }, { as: member }))).toEqual(['FORBIDDEN']);
    const admin = await f.admin();
    const ids = Array.from({ length: 101 }, () => randomUUID());
    expect(invalidFields(await t.gql(DELETE_USERS, { ids }, { as: admin }))).toEqual(['ids']);
    expect(invalidFields(await t.gql(DELETE_USERS, { ids: ['x'] }, { as: admin }))).toEqual(['ids']);
  });
});

describe('deleteUsers in bulk', () => {
  // A database of its own: thousands of short sessions would skew the planner statistics that
  // other test files' EXPLAIN assertions depend on.
  let db: { url: string; drop(): Promise<void> };
  let bulk: TestServer;
  beforeAll(async () => {
    db = await freshDatabase(testDatabaseUrl());
    bulk = await startTestServer({ DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await bulk.close();
    await db.drop();
  });

  it('deletes 100 users with thousands of messages in a handful of statements', async () => {
    const admin = await factories(bulk.dataSource).admin();
    const tag = randomUUID().slice(0, 8);
    const users: { id: string }[] = await bulk.dataSource.query(
      `INSERT INTO users (email, display_name) SELECT 'bulk-' || i || '-${tag}@test.hub', 'Bulk ' || i FROM generate_series(1, 100) i RETURNING id`,
    );
    const ids = users.map((u) => u.id);
    await bulk.dataSource.query(
      `INSERT INTO sessions (user_id, title) SELECT u, 'Bulk ' || n FROM unnest($1::uuid[]) u, generate_series(1, 3) n`,
      [ids],
    );
    await bulk.dataSource.query(
      `INSERT INTO messages (session_id, role, content) SELECT s.id, 'USER', 'm' || n FROM sessions s, generate_series(1, 10) n WHERE s.user_id = ANY($1)`,
      [ids],
    );
    const result = await bulk.gql(DELETE_USERS, { ids }, { as: admin });
    expect(result.data).toEqual({ deleteUsers: { deletedCount: 100 } });
    // Authentication, BEGIN, lock the users, TypeORM's reload, lock their sessions, delete their
    // audio uploads, lock their sessions (user cascade), audio keys, 3 child deletes, the sessions,
    // the users, COMMIT: the same 14 however many rows.
    expect(result.sql).toBeLessThanOrEqual(14);
    expect(await bulk.dataSource.query('SELECT count(*)::int AS n FROM sessions WHERE user_id = ANY($1)', [ids])).toEqual([{ n: 0 }]);
    await expectInvariants(bulk.dataSource);
  });

});
