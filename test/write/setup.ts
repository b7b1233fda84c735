import { factories, Factories } from '../factories';
import { codes, GqlResult, startTestServer, TestServer } from '../harness';
import { expectInvariants } from '../invariants';

/** One real server per test file; after every test, the whole database must be consistent. */
export function writeSuite(env: Record<string, string> = {}): { t: () => TestServer; f: () => Factories } {
  let server: TestServer;
  let f: Factories;
  beforeAll(async () => {
    server = await startTestServer(env);
    f = factories(server.dataSource);
  });
  afterEach(async () => {
    await expectInvariants(server.dataSource);
  });
  afterAll(() => server.close());
  return { t: () => server, f: () => f };
}

/** The `extensions.validation` fields of a BAD_USER_INPUT result. */
export function invalidFields(result: GqlResult): string[] {
  expect(codes(result)).toEqual(['BAD_USER_INPUT']);
  return ((result.errors![0].extensions!.validation ?? []) as { field: string }[]).map((v) => v.field);
}

export const SESSION_FIELDS = 'id title version isSyncing createdAt updatedAt deletedAt';

export const CREATE_SESSION = `mutation($input: CreateSessionInput!) { createSession(input: $input) { ${SESSION_FIELDS} } }`;
export const UPDATE_SESSION = `mutation($id: ID!, $input: UpdateSessionInput!) { updateSession(id: $id, input: $input) { ${SESSION_FIELDS} } }`;
export const DELETE_SESSION = `mutation($id: ID!) { deleteSession(id: $id) { ${SESSION_FIELDS} } }`;
export const RESTORE_SESSION = `mutation($id: ID!) { restoreSession(id: $id) { ${SESSION_FIELDS} } }`;
export const PURGE_SESSION = `mutation($id: ID!) { purgeSession(id: $id) }`;
export const POST_MESSAGE = `mutation($input: PostMessageInput!) { postMessage(input: $input) { id role content createdAt deletedAt } }`;
export const DELETE_MESSAGE = `mutation($id: ID!) { deleteMessage(id: $id) { id deletedAt } }`;
export const CREATE_SKILL = `mutation($input: CreateSkillInput!) { createSkill(input: $input) { id name description createdAt } }`;
export const DELETE_SKILL = `mutation($id: ID!) { deleteSkill(id: $id) }`;
export const ATTACH_SKILLS = `mutation($sessionId: ID!, $skillIds: [ID!]!) { attachSkills(sessionId: $sessionId, skillIds: $skillIds) { ${SESSION_FIELDS} } }`;
export const DETACH_SKILLS = `mutation($sessionId: ID!, $skillIds: [ID!]!) { detachSkills(sessionId: $sessionId, skillIds: $skillIds) { ${SESSION_FIELDS} } }`;
export const REPORT_NODE_SYNC = `mutation($input: ReportNodeSyncInput!) { reportNodeSync(input: $input) { ${SESSION_FIELDS} } }`;
export const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { id email displayName role } }`;
export const DELETE_USERS = `mutation($ids: [ID!]!) { deleteUsers(ids: $ids) { deletedCount } }`;
