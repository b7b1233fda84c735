import { randomUUID } from 'node:crypto';
import { GqlResult, useTestServer } from '../harness';
import { User } from '../../src/users/user.entity';
import * as doc from './documents';

const { t, f } = useTestServer({}, { invariants: true });

/**
 * Exact statements per mutation (x-sql-statements: authentication, BEGIN and COMMIT included).
 * Before issue #17's cut (same scenario): createSession 10, updateSession 8, postMessage 7,
 * deleteMessage 10, attachSkills 9, detachSkills 9, reportNodeSync 9, deleteSession 9,
 * restoreSession 9, deleteSkill 9, purgeSession 10, deleteUsers 12; createUser and createSkill 4.
 */
const EXPECTED = {
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
  // Authentication, BEGIN, the viewer's quota lock, the viewer's key (with the owner's), the
  // session, the pending bytes, the INSERT, COMMIT.
  createAudioUpload: 8,
} satisfies Record<string, number>;

type Mutation = keyof typeof EXPECTED;

/** Each mutation's own scenario: fresh rows set up (unmeasured), then the one measured request. */
const CASES: Record<Mutation, () => Promise<GqlResult>> = {
  createUser: async () => gql(doc.CREATE_USER, { input: { email: `c-${randomUUID().slice(0, 8)}@test.hub`, displayName: 'C' } }, await f.admin()),
  createAudioUpload: async () => {
    const { member, session } = await sessionWithMessage();
    return gql(
      `mutation($input: CreateAudioUploadInput!) { createAudioUpload(input: $input) { key } }`,
      { input: { sessionId: session.id, contentType: 'audio/mpeg', byteSize: 1000 } },
      member,
    );
  },
  createSession: async () => {
    const [a, b] = [await f.skill(), await f.skill()];
    return gql(doc.CREATE_SESSION, { input: { title: 'T', skillIds: [a.id, b.id] } }, await f.user());
  },
  'createSession without skills': async () => gql(doc.CREATE_SESSION, { input: { title: 'T' } }, await f.user()),
  updateSession: async () => {
    const { member, session } = await sessionWithMessage();
    return gql(doc.UPDATE_SESSION, { id: session.id, input: { title: 'U', expectedVersion: 1 } }, member);
  },
  postMessage: async () => {
    const { member, session } = await sessionWithMessage();
    return gql(doc.POST_MESSAGE, { input: { sessionId: session.id, role: 'USER', content: 'hi' } }, member);
  },
  deleteMessage: async () => {
    const { member, session } = await sessionWithMessage();
    const posted = await gql(doc.POST_MESSAGE, { input: { sessionId: session.id, role: 'USER', content: 'hi' } }, member);
    return gql(doc.DELETE_MESSAGE, { id: posted.data.postMessage.id }, member);
  },
  attachSkills: async () => {
    const { member, session } = await sessionWithMessage();
    const [a, b] = [await f.skill(), await f.skill()];
    return gql(doc.ATTACH_SKILLS, { sessionId: session.id, skillIds: [a.id, b.id] }, member);
  },
  detachSkills: async () => {
    const { member, session } = await sessionWithMessage();
    const [a, b] = [await f.skill(), await f.skill()];
    await f.link(session, a);
    await f.link(session, b);
    return gql(doc.DETACH_SKILLS, { sessionId: session.id, skillIds: [a.id] }, member);
  },
  'reportNodeSync (new node)': async () => {
    const { member, session } = await sessionWithMessage();
    return gql(doc.REPORT_NODE_SYNC, { input: { sessionId: session.id, nodeId: 'n1', status: 'PENDING' } }, member);
  },
  'reportNodeSync (known node)': async () => {
    const { member, session } = await sessionWithMessage();
    await f.nodeSync(session, 'n1', 'PENDING');
    return gql(doc.REPORT_NODE_SYNC, { input: { sessionId: session.id, nodeId: 'n1', status: 'SYNCED' } }, member);
  },
  deleteSession: async () => {
    const { member, session } = await sessionWithMessage();
    return gql(doc.DELETE_SESSION, { id: session.id }, member);
  },
  restoreSession: async () => {
    const { member, session } = await sessionWithMessage();
    await gql(doc.DELETE_SESSION, { id: session.id }, member);
    return gql(doc.RESTORE_SESSION, { id: session.id }, member);
  },
  createSkill: async () => gql(doc.CREATE_SKILL, { input: { name: `s-${randomUUID().slice(0, 8)}` } }, await f.admin()),
  deleteSkill: async () => {
    const { session } = await sessionWithMessage();
    const skill = await f.skill();
    await f.link(session, skill);
    return gql(doc.DELETE_SKILL, { id: skill.id }, await f.admin());
  },
  'deleteSkill without links': async () => gql(doc.DELETE_SKILL, { id: (await f.skill()).id }, await f.admin()),
  purgeSession: async () => {
    const { session } = await sessionWithMessage();
    return gql(doc.PURGE_SESSION, { id: session.id }, await f.admin());
  },
  'purgeSession with audio': async () => {
    const voiced = await f.session(await f.user());
    await f.message(voiced, { audioKey: `audio/test/${randomUUID()}.ogg`, audioContentType: 'audio/ogg', audioByteSize: 3 });
    return gql(doc.PURGE_SESSION, { id: voiced.id }, await f.admin());
  },
  deleteUsers: async () => {
    const doomed = await f.user();
    await f.message(await f.session(doomed));
    return gql(doc.DELETE_USERS, { ids: [doomed.id] }, await f.admin());
  },
};

/** The row a write locks is its only read of it: no TypeORM reload, no re-read for the answer. */
const READS_LOCKED_ROW_ONCE = new Set<Mutation>(['updateSession', 'deleteSession', 'restoreSession', 'deleteMessage', 'purgeSession', 'postMessage']);

const gql = (query: string, variables: Record<string, unknown>, as: User) => t.gql(query, variables, { as });

async function sessionWithMessage() {
  const member = await f.user();
  const session = await f.session(member);
  await f.message(session);
  return { member, session };
}

const measured: Record<string, string[]> = {};
afterAll(() => {
  if (process.env.HUB_PRINT_STATEMENTS) console.log(JSON.stringify(measured, null, 2));
});

it.each(Object.entries(EXPECTED) as [Mutation, number][])('%s issues exactly %d statements', async (name, expected) => {
  const result = await CASES[name]();
  expect(result.errors).toBeUndefined();
  expect(result.statements).toHaveLength(result.sql);
  measured[name] = result.statements.map((s) => s.replace(/\s+/g, ' ').slice(0, 160));
  expect(result.sql).toBe(expected);
  if (READS_LOCKED_ROW_ONCE.has(name)) {
    expect(measured[name].slice(1).filter((sql) => /^SELECT/i.test(sql))).toHaveLength(1);
  }
});
