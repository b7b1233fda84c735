import { randomUUID } from 'node:crypto';
import { GqlResult, useTestServer } from '../harness';
import * as doc from './documents';

const { t, f } = useTestServer({}, { invariants: true });

/**
 * Exact statements per mutation (x-sql-statements: authentication, BEGIN and COMMIT included).
 * Before issue #17's cut (same scenario): createSession 10, updateSession 8, postMessage 7,
 * deleteMessage 10, attachSkills 9, detachSkills 9, reportNodeSync 9, deleteSession 9,
 * restoreSession 9, deleteSkill 9, purgeSession 10, deleteUsers 12; createUser and createSkill 4.
 */
const EXPECTED: Record<string, number> = {
  createUser: 4,
  createSession: 8,
  'createSession without skills': 5,
  updateSession: 6,
  postMessage: 6,
  deleteMessage: 6,
  attachSkills: 8,
  detachSkills: 7,
  'reportNodeSync (new node)': 7,
  'reportNodeSync (known node)': 7,
  deleteSession: 6,
  restoreSession: 7,
  createSkill: 4,
  deleteSkill: 7,
  'deleteSkill without links': 6,
  purgeSession: 6,
  'purgeSession with audio': 7,
  deleteUsers: 8,
};

const measured: Record<string, { sql: number; statements: string[] }> = {};

function record(name: string, result: GqlResult): void {
  expect(result.errors).toBeUndefined();
  expect(result.statements).toHaveLength(result.sql);
  measured[name] = { sql: result.sql, statements: result.statements.map((s) => s.replace(/\s+/g, ' ').slice(0, 160)) };
}

afterAll(() => {
  if (process.env.HUB_PRINT_STATEMENTS) console.log(JSON.stringify(measured, null, 2));
});

it('issue exactly the expected statements for every mutation, and read a locked row once', async () => {
  const admin = await f.admin();
  const member = await f.user();
  const [a, b, c] = [await f.skill(), await f.skill(), await f.skill()];
  const session = await f.session(member);
  await f.message(session);
  const gql = (q: string, v: Record<string, unknown>, as = member) => t.gql(q, v, { as });

  record('createUser', await gql(doc.CREATE_USER, { input: { email: `c-${randomUUID().slice(0, 8)}@test.hub`, displayName: 'C' } }, admin));
  record('createSession', await gql(doc.CREATE_SESSION, { input: { title: 'T', skillIds: [a.id, b.id] } }));
  record('createSession without skills', await gql(doc.CREATE_SESSION, { input: { title: 'T' } }));
  record('updateSession', await gql(doc.UPDATE_SESSION, { id: session.id, input: { title: 'U', expectedVersion: 1 } }));
  const posted = await gql(doc.POST_MESSAGE, { input: { sessionId: session.id, role: 'USER', content: 'hi' } });
  record('postMessage', posted);
  record('deleteMessage', await gql(doc.DELETE_MESSAGE, { id: posted.data.postMessage.id }));
  record('attachSkills', await gql(doc.ATTACH_SKILLS, { sessionId: session.id, skillIds: [a.id, b.id] }));
  record('detachSkills', await gql(doc.DETACH_SKILLS, { sessionId: session.id, skillIds: [a.id] }));
  record('reportNodeSync (new node)', await gql(doc.REPORT_NODE_SYNC, { input: { sessionId: session.id, nodeId: 'n1', status: 'PENDING' } }));
  record('reportNodeSync (known node)', await gql(doc.REPORT_NODE_SYNC, { input: { sessionId: session.id, nodeId: 'n1', status: 'SYNCED' } }));
  record('deleteSession', await gql(doc.DELETE_SESSION, { id: session.id }));
  record('restoreSession', await gql(doc.RESTORE_SESSION, { id: session.id }));
  record('createSkill', await gql(doc.CREATE_SKILL, { input: { name: `s-${randomUUID().slice(0, 8)}` } }, admin));
  record('deleteSkill', await gql(doc.DELETE_SKILL, { id: b.id }, admin));
  record('deleteSkill without links', await gql(doc.DELETE_SKILL, { id: c.id }, admin));
  record('purgeSession', await gql(doc.PURGE_SESSION, { id: session.id }, admin));
  const voiced = await f.session(member);
  await f.message(voiced, { audioKey: `audio/test/${randomUUID()}.ogg`, audioContentType: 'audio/ogg', audioByteSize: 3 });
  record('purgeSession with audio', await gql(doc.PURGE_SESSION, { id: voiced.id }, admin));
  const doomed = await f.user();
  await f.message(await f.session(doomed));
  record('deleteUsers', await gql(doc.DELETE_USERS, { ids: [doomed.id] }, admin));

  expect(Object.fromEntries(Object.entries(measured).map(([name, m]) => [name, m.sql]))).toEqual(EXPECTED);
  // The row a write locks is its only read of it: no TypeORM reload, no re-read for the answer.
  for (const name of ['updateSession', 'deleteSession', 'restoreSession', 'deleteMessage', 'purgeSession', 'postMessage']) {
    const reads = measured[name].statements.slice(1).filter((sql) => /^SELECT/i.test(sql));
    expect({ name, reads: reads.length }).toEqual({ name, reads: 1 });
  }
});
