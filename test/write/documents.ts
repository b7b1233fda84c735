/** The mutation documents the write tests send, each selecting what the tests assert on. */

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
