import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SyncStatus } from '../../src/node-sync/node-sync.entity';
import { Message } from '../../src/messages/message.entity';
import { Session } from '../../src/sessions/session.entity';
import { Skill } from '../../src/skills/skill.entity';
import { User } from '../../src/users/user.entity';
import { factories, Factories } from '../factories';
import { TestServer } from '../harness';

/**
 * The authorization matrix (issue 5, item 1): for every query, every mutation and every type field
 * that reaches other rows, the outcome the contract (CONTRACT.md section 2, schema.graphql) promises
 * to each kind of caller. Anonymous callers and bad tokens are always UNAUTHENTICATED, so rows only
 * spell out the three authenticated callers.
 */

/** Who calls: no header, a forged bearer, the member owning the target, another member, an admin. */
export type Caller = 'anonymous' | 'badToken' | 'owner' | 'other' | 'admin';
export const CALLERS: Caller[] = ['anonymous', 'badToken', 'owner', 'other', 'admin'];
export const CALLER_LABEL: Record<Caller, string> = {
  anonymous: 'anonymous',
  badToken: 'bad token',
  owner: 'owning member',
  other: 'other member',
  admin: 'admin',
};

/** Fresh rows for one (row, caller) case: the owner's live session with one message, one linked
 * skill and one node sync row, a spare unlinked skill, another member and an admin. */
export interface Fixtures {
  tag: string;
  owner: User;
  other: User;
  admin: User;
  session: Session;
  message: Message;
  skill: Skill;
  spareSkill: Skill;
  nodeId: string;
  /** A session of the other member, created by rows that need one (`withOthersSessionOnSkill`). */
  othersSession?: Session;
}

export async function buildFixtures(f: Factories): Promise<Fixtures> {
  const tag = randomUUID().slice(0, 12);
  const [owner, other, admin, skill, spareSkill] = await Promise.all([
    f.user(),
    f.user(),
    f.admin(),
    f.skill({ name: `matrix-linked-${tag}` }),
    f.skill({ name: `matrix-spare-${tag}` }),
  ]);
  const session = await f.session(owner, { title: `Matrix session ${tag}` });
  const nodeId = `matrix-node-${tag}`;
  const [message] = await Promise.all([f.message(session), f.link(session, skill), f.nodeSync(session, nodeId, SyncStatus.SYNCED)]);
  return { tag, owner, other, admin, session, message, skill, spareSkill, nodeId };
}

/** What a case must produce. */
export type Outcome =
  | { kind: 'data'; label: string; check?: (value: any, ctx: CheckContext) => void | Promise<void> }
  | { kind: 'null' }
  | { kind: 'empty' }
  | { kind: 'error'; code: 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' };

export interface CheckContext {
  fx: Fixtures;
  /** The authenticated caller (owner, other or admin). */
  viewer: User;
  dataSource: DataSource;
}

/** `data`: the field at the row's path is non-null, no errors, and `check` passes. */
export const data = (label: string, check?: (value: any, ctx: CheckContext) => void | Promise<void>): Outcome => ({
  kind: 'data',
  label,
  check,
});
/** `null`: no errors, the field at the row's path (or one of its parents) is `null`. */
export const NULL: Outcome = { kind: 'null' };
/** `empty`: no errors, the field is an empty connection (`totalCount` 0, no nodes), an empty list or 0. */
export const EMPTY: Outcome = { kind: 'empty' };
export const UNAUTHENTICATED: Outcome = { kind: 'error', code: 'UNAUTHENTICATED' };
export const FORBIDDEN: Outcome = { kind: 'error', code: 'FORBIDDEN' };
export const NOT_FOUND: Outcome = { kind: 'error', code: 'NOT_FOUND' };
/** Only where the caller may see the target: for anyone else the same call must be NOT_FOUND
 * (checking state before visibility would leak that the row exists). */
export const CONFLICT: Outcome = { kind: 'error', code: 'CONFLICT' };

export function outcomeLabel(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'data':
      return outcome.label;
    case 'null':
      return 'null';
    case 'empty':
      return 'empty';
    case 'error':
      return outcome.code;
  }
}

export interface Row {
  /** How the operation is reached, when a coordinate has several rows or is a type field. */
  via?: string;
  /** Path from `data` to the value the outcome is about, e.g. `['skill', 'sessions']`. */
  path: string[];
  /** Brings the fresh fixtures into the state the operation needs (e.g. soft-deleted first). */
  prepare?: (fx: Fixtures, t: TestServer) => Promise<void>;
  build: (fx: Fixtures) => { query: string; variables: Record<string, unknown> };
  expect: Record<'owner' | 'other' | 'admin', Outcome>;
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

const ids = (nodes: { id: string }[]) => nodes.map((n) => n.id);

/** A connection holding exactly the owner's session. */
function onlyTheSession(connection: any, { fx }: CheckContext) {
  expect(connection.totalCount).toBe(1);
  expect(ids(connection.nodes)).toEqual([fx.session.id]);
}

const isSession = (value: any, { fx }: CheckContext) => expect(value.id).toBe(fx.session.id);
const isMessage = (value: any, { fx }: CheckContext) => expect(value.id).toBe(fx.message.id);
const isOwner = (value: any, { fx }: CheckContext) => expect(value.id).toBe(fx.owner.id);
const isOne = (value: any) => expect(value).toBe(1);

async function sessionRow(dataSource: DataSource, id: string) {
  const [row] = await dataSource.query('SELECT id, deleted_at FROM sessions WHERE id = $1', [id]);
  return row as { id: string; deleted_at: Date | null } | undefined;
}

// ---------------------------------------------------------------------------------------------
// Documents
// ---------------------------------------------------------------------------------------------

const CONNECTION = '{ totalCount nodes { id } }';
const SESSION_FIELDS = 'id title version deletedAt isSyncing owner { id } skills { id } nodeSync { nodeId status }';

export const DELETE_SESSION = 'mutation ($id: ID!) { deleteSession(id: $id) { id deletedAt } }';

/** Soft-deletes the owner's session through the API, as its owner. */
async function softDeleteSession(fx: Fixtures, t: TestServer): Promise<void> {
  const result = await t.gql(DELETE_SESSION, { id: fx.session.id }, { as: fx.owner });
  if (result.errors || !result.data?.deleteSession?.deletedAt) {
    throw new Error(`could not soft-delete the fixture session: ${JSON.stringify(result.errors)}`);
  }
}

/** Soft-deletes the owner's message through the API, as its owner. */
async function softDeleteMessage(fx: Fixtures, t: TestServer): Promise<void> {
  const result = await t.gql('mutation ($id: ID!) { deleteMessage(id: $id) { deletedAt } }', { id: fx.message.id }, { as: fx.owner });
  if (result.errors || !result.data?.deleteMessage?.deletedAt) {
    throw new Error(`could not soft-delete the fixture message: ${JSON.stringify(result.errors)}`);
  }
}

/** Gives the other member a live session of their own with the fixture skill attached. */
async function withOthersSessionOnSkill(fx: Fixtures, t: TestServer): Promise<void> {
  const f = factories(t.dataSource);
  fx.othersSession = await f.session(fx.other, { title: `Matrix other ${fx.tag}` });
  await f.link(fx.othersSession, fx.skill);
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/**
 * Every `Query.*` and `Mutation.*` field of schema.graphql plus the type fields that reach other
 * rows. The completeness test fails when a schema field has no row (or a row names no field).
 */
export const MATRIX: Record<string, Row[]> = {
  // ----------------------------------------------------------------------------- Query
  'Query.me': [
    {
      path: ['me'],
      build: () => ({ query: '{ me { id role } }', variables: {} }),
      expect: {
        owner: data('own record', (me, { viewer }) => expect(me).toEqual({ id: viewer.id, role: 'MEMBER' })),
        other: data('own record', (me, { viewer }) => expect(me).toEqual({ id: viewer.id, role: 'MEMBER' })),
        admin: data('own record', (me, { viewer }) => expect(me).toEqual({ id: viewer.id, role: 'ADMIN' })),
      },
    },
  ],
  'Query.user': [
    {
      via: 'user(id: owner)',
      path: ['user'],
      build: (fx) => ({ query: 'query ($id: ID!) { user(id: $id) { id email } }', variables: { id: fx.owner.id } }),
      expect: {
        owner: data('the owner', isOwner),
        other: NULL,
        admin: data('the owner', isOwner),
      },
    },
  ],
  'Query.users': [
    {
      path: ['users'],
      build: () => ({ query: '{ users(first: 1) { totalCount nodes { id } } }', variables: {} }),
      expect: {
        owner: FORBIDDEN,
        other: FORBIDDEN,
        admin: data('a page of users', (users) => {
          expect(users.totalCount).toBeGreaterThanOrEqual(3);
          expect(users.nodes).toHaveLength(1);
        }),
      },
    },
  ],
  'Query.session': [
    {
      via: 'session(id: owner’s session)',
      path: ['session'],
      build: (fx) => ({ query: 'query ($id: ID!) { session(id: $id) { id title } }', variables: { id: fx.session.id } }),
      expect: {
        owner: data('the session', isSession),
        other: NULL,
        admin: data('the session', isSession),
      },
    },
  ],
  'Query.sessions': [
    {
      via: 'sessions(filter: { userId: owner })',
      path: ['sessions'],
      build: (fx) => ({
        query: `query ($userId: ID!) { sessions(filter: { userId: $userId }) ${CONNECTION} }`,
        variables: { userId: fx.owner.id },
      }),
      expect: {
        owner: data('the session', onlyTheSession),
        other: EMPTY,
        admin: data('the session', onlyTheSession),
      },
    },
    {
      via: 'sessions(filter: { userId: owner, deleted: ALL })',
      path: ['sessions'],
      prepare: softDeleteSession,
      build: (fx) => ({
        query: `query ($userId: ID!) { sessions(filter: { userId: $userId, deleted: ALL }) ${CONNECTION} }`,
        variables: { userId: fx.owner.id },
      }),
      expect: {
        owner: data('the soft-deleted session', onlyTheSession),
        other: EMPTY,
        admin: data('the soft-deleted session', onlyTheSession),
      },
    },
  ],
  'Query.skill': [
    {
      path: ['skill'],
      build: (fx) => ({ query: 'query ($id: ID!) { skill(id: $id) { id name } }', variables: { id: fx.skill.id } }),
      expect: {
        owner: data('the skill', (skill, { fx }) => expect(skill.id).toBe(fx.skill.id)),
        other: data('the skill', (skill, { fx }) => expect(skill.id).toBe(fx.skill.id)),
        admin: data('the skill', (skill, { fx }) => expect(skill.id).toBe(fx.skill.id)),
      },
    },
  ],
  'Query.skills': [
    {
      path: ['skills'],
      build: () => ({ query: '{ skills(first: 1) { totalCount nodes { id name } } }', variables: {} }),
      expect: {
        owner: data('the catalogue', catalogue),
        other: data('the catalogue', catalogue),
        admin: data('the catalogue', catalogue),
      },
    },
  ],
  'Query.message': [
    {
      via: 'message(id: owner’s message)',
      path: ['message'],
      build: (fx) => ({ query: 'query ($id: ID!) { message(id: $id) { id content } }', variables: { id: fx.message.id } }),
      expect: {
        owner: data('the message', isMessage),
        other: NULL,
        admin: data('the message', isMessage),
      },
    },
  ],

  // ----------------------------------------------------------------------------- type fields
  'User.sessions': [
    {
      via: 'user(id: owner) { sessions }',
      path: ['user', 'sessions'],
      build: (fx) => ({ query: `query ($id: ID!) { user(id: $id) { sessions ${CONNECTION} } }`, variables: { id: fx.owner.id } }),
      expect: {
        owner: data('the session', onlyTheSession),
        other: NULL,
        admin: data('the session', onlyTheSession),
      },
    },
    {
      via: 'me { sessions(filter: { userId: owner }) }',
      path: ['me', 'sessions'],
      build: (fx) => ({
        query: `query ($userId: ID!) { me { sessions(filter: { userId: $userId }) ${CONNECTION} } }`,
        variables: { userId: fx.owner.id },
      }),
      // Combined with the viewer: anyone but the owner gets an empty list, the admin included.
      expect: {
        owner: data('the session', onlyTheSession),
        other: EMPTY,
        admin: EMPTY,
      },
    },
  ],
  'User.sessionCount': [
    {
      via: 'user(id: owner) { sessionCount }',
      path: ['user', 'sessionCount'],
      build: (fx) => ({ query: 'query ($id: ID!) { user(id: $id) { sessionCount } }', variables: { id: fx.owner.id } }),
      expect: {
        owner: data('1', isOne),
        other: NULL,
        admin: data('1', isOne),
      },
    },
    {
      via: 'me { sessionCount }',
      path: ['me', 'sessionCount'],
      build: () => ({ query: '{ me { sessionCount } }', variables: {} }),
      expect: {
        owner: data('1', isOne),
        other: EMPTY,
        admin: EMPTY,
      },
    },
  ],
  'Session.owner': [
    {
      via: 'session(id) { owner }',
      path: ['session', 'owner'],
      build: (fx) => ({ query: 'query ($id: ID!) { session(id: $id) { owner { id } } }', variables: { id: fx.session.id } }),
      expect: {
        owner: data('the owner', isOwner),
        other: NULL,
        admin: data('the owner', isOwner),
      },
    },
  ],
  'Session.skills': [
    {
      via: 'session(id) { skills }',
      path: ['session', 'skills'],
      build: (fx) => ({ query: 'query ($id: ID!) { session(id: $id) { skills { id } } }', variables: { id: fx.session.id } }),
      expect: {
        owner: data('the linked skill', (skills, { fx }) => expect(ids(skills)).toEqual([fx.skill.id])),
        other: NULL,
        admin: data('the linked skill', (skills, { fx }) => expect(ids(skills)).toEqual([fx.skill.id])),
      },
    },
  ],
  'Session.messages': [
    {
      via: 'session(id) { messages }',
      path: ['session', 'messages'],
      build: (fx) => ({ query: `query ($id: ID!) { session(id: $id) { messages ${CONNECTION} } }`, variables: { id: fx.session.id } }),
      expect: {
        owner: data('the message', onlyTheMessage),
        other: NULL,
        admin: data('the message', onlyTheMessage),
      },
    },
  ],
  'Session.messageCount': [
    {
      via: 'session(id) { messageCount }',
      path: ['session', 'messageCount'],
      build: (fx) => ({ query: 'query ($id: ID!) { session(id: $id) { messageCount } }', variables: { id: fx.session.id } }),
      expect: {
        owner: data('1', isOne),
        other: NULL,
        admin: data('1', isOne),
      },
    },
  ],
  'Session.lastMessage': [
    {
      via: 'session(id) { lastMessage }',
      path: ['session', 'lastMessage'],
      build: (fx) => ({ query: 'query ($id: ID!) { session(id: $id) { lastMessage { id } } }', variables: { id: fx.session.id } }),
      expect: {
        owner: data('the message', isMessage),
        other: NULL,
        admin: data('the message', isMessage),
      },
    },
  ],
  'Session.nodeSync': [
    {
      via: 'session(id) { nodeSync }',
      path: ['session', 'nodeSync'],
      build: (fx) => ({ query: 'query ($id: ID!) { session(id: $id) { nodeSync { nodeId status } } }', variables: { id: fx.session.id } }),
      expect: {
        owner: data('the node row', theNodeRow),
        other: NULL,
        admin: data('the node row', theNodeRow),
      },
    },
  ],
  'Message.session': [
    {
      via: 'message(id) { session }',
      path: ['message', 'session'],
      build: (fx) => ({ query: 'query ($id: ID!) { message(id: $id) { session { id } } }', variables: { id: fx.message.id } }),
      expect: {
        owner: data('the session', isSession),
        other: NULL,
        admin: data('the session', isSession),
      },
    },
  ],
  'Skill.sessions': [
    {
      via: 'skill(id) { sessions }',
      path: ['skill', 'sessions'],
      build: (fx) => ({ query: `query ($id: ID!) { skill(id: $id) { sessions ${CONNECTION} } }`, variables: { id: fx.skill.id } }),
      expect: {
        owner: data('the session', onlyTheSession),
        other: EMPTY,
        admin: data('the session', onlyTheSession),
      },
    },
    {
      via: 'skill(id) { sessions } with the other member’s session attached too',
      path: ['skill', 'sessions'],
      prepare: withOthersSessionOnSkill,
      build: (fx) => ({ query: `query ($id: ID!) { skill(id: $id) { sessions ${CONNECTION} } }`, variables: { id: fx.skill.id } }),
      expect: {
        owner: data('only the owner’s session', onlyTheSession),
        other: data('only their own session', (connection, { fx }) => {
          expect(connection.totalCount).toBe(1);
          expect(ids(connection.nodes)).toEqual([fx.othersSession!.id]);
        }),
        admin: data('both sessions', (connection, { fx }) => {
          expect(connection.totalCount).toBe(2);
          expect(ids(connection.nodes).sort()).toEqual([fx.session.id, fx.othersSession!.id].sort());
        }),
      },
    },
  ],
  'Skill.sessionCount': [
    {
      via: 'skill(id) { sessionCount }',
      path: ['skill', 'sessionCount'],
      build: (fx) => ({ query: 'query ($id: ID!) { skill(id: $id) { sessionCount } }', variables: { id: fx.skill.id } }),
      expect: {
        owner: data('1', isOne),
        other: EMPTY,
        admin: data('1', isOne),
      },
    },
    {
      via: 'skill(id) { sessionCount } with the other member’s session attached too',
      path: ['skill', 'sessionCount'],
      prepare: withOthersSessionOnSkill,
      build: (fx) => ({ query: 'query ($id: ID!) { skill(id: $id) { sessionCount } }', variables: { id: fx.skill.id } }),
      expect: {
        owner: data('1', isOne),
        other: data('1', isOne),
        admin: data('2', (count) => expect(count).toBe(2)),
      },
    },
  ],

  // ----------------------------------------------------------------------------- Mutation
  'Mutation.createUser': [
    {
      path: ['createUser'],
      build: (fx) => ({
        query: 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id email role } }',
        variables: { input: { email: `matrix-${fx.tag}@test.hub`, displayName: 'Matrix user' } },
      }),
      expect: {
        owner: FORBIDDEN,
        other: FORBIDDEN,
        admin: data('the new user', (user, { fx }) => expect(user).toMatchObject({ email: `matrix-${fx.tag}@test.hub`, role: 'MEMBER' })),
      },
    },
  ],
  'Mutation.deleteUsers': [
    {
      via: 'deleteUsers(ids: [owner])',
      path: ['deleteUsers'],
      build: (fx) => ({ query: 'mutation ($ids: [ID!]!) { deleteUsers(ids: $ids) { deletedCount } }', variables: { ids: [fx.owner.id] } }),
      expect: {
        owner: FORBIDDEN,
        other: FORBIDDEN,
        admin: data('deletedCount 1', async (payload, { fx, dataSource }) => {
          expect(payload).toEqual({ deletedCount: 1 });
          expect(await sessionRow(dataSource, fx.session.id)).toBeUndefined();
        }),
      },
    },
  ],
  'Mutation.createSession': [
    {
      via: 'createSession(input: { title })',
      path: ['createSession'],
      build: (fx) => ({
        query: 'mutation ($input: CreateSessionInput!) { createSession(input: $input) { id owner { id } } }',
        variables: { input: { title: `Matrix new ${fx.tag}` } },
      }),
      expect: {
        owner: data('own session', ownedByViewer),
        other: data('own session', ownedByViewer),
        admin: data('own session', ownedByViewer),
      },
    },
    {
      via: 'createSession(input: { title, ownerId: owner })',
      path: ['createSession'],
      build: (fx) => ({
        query: 'mutation ($input: CreateSessionInput!) { createSession(input: $input) { id owner { id } } }',
        variables: { input: { title: `Matrix new ${fx.tag}`, ownerId: fx.owner.id } },
      }),
      // Naming yourself is not naming "another owner".
      expect: {
        owner: data('owner’s session', isOwnersNewSession),
        other: FORBIDDEN,
        admin: data('owner’s session', isOwnersNewSession),
      },
    },
  ],
  'Mutation.updateSession': [
    {
      path: ['updateSession'],
      build: (fx) => ({
        query: 'mutation ($id: ID!, $input: UpdateSessionInput!) { updateSession(id: $id, input: $input) { id title version } }',
        variables: { id: fx.session.id, input: { title: `Renamed ${fx.tag}` } },
      }),
      expect: {
        owner: data('the renamed session', renamed),
        other: NOT_FOUND,
        admin: data('the renamed session', renamed),
      },
    },
    {
      via: 'updateSession(input: { expectedVersion: stale })',
      path: ['updateSession'],
      build: (fx) => ({
        query: 'mutation ($id: ID!, $input: UpdateSessionInput!) { updateSession(id: $id, input: $input) { id title version } }',
        variables: { id: fx.session.id, input: { title: `Renamed ${fx.tag}`, expectedVersion: 7 } },
      }),
      expect: { owner: CONFLICT, other: NOT_FOUND, admin: CONFLICT },
    },
  ],
  'Mutation.deleteSession': [
    {
      path: ['deleteSession'],
      build: (fx) => ({ query: DELETE_SESSION, variables: { id: fx.session.id } }),
      expect: {
        owner: data('the deleted session', softDeleted),
        other: NOT_FOUND,
        admin: data('the deleted session', softDeleted),
      },
    },
    {
      via: 'deleteSession(id: already soft-deleted session)',
      path: ['deleteSession'],
      prepare: softDeleteSession,
      build: (fx) => ({ query: DELETE_SESSION, variables: { id: fx.session.id } }),
      expect: { owner: CONFLICT, other: NOT_FOUND, admin: CONFLICT },
    },
  ],
  'Mutation.restoreSession': [
    {
      via: 'restoreSession(id: soft-deleted session)',
      path: ['restoreSession'],
      prepare: softDeleteSession,
      build: (fx) => ({ query: 'mutation ($id: ID!) { restoreSession(id: $id) { id deletedAt } }', variables: { id: fx.session.id } }),
      expect: {
        owner: data('the restored session', restored),
        other: NOT_FOUND,
        admin: data('the restored session', restored),
      },
    },
    {
      via: 'restoreSession(id: live session)',
      path: ['restoreSession'],
      build: (fx) => ({ query: 'mutation ($id: ID!) { restoreSession(id: $id) { id deletedAt } }', variables: { id: fx.session.id } }),
      expect: { owner: CONFLICT, other: NOT_FOUND, admin: CONFLICT },
    },
  ],
  'Mutation.purgeSession': [
    {
      path: ['purgeSession'],
      build: (fx) => ({ query: 'mutation ($id: ID!) { purgeSession(id: $id) }', variables: { id: fx.session.id } }),
      expect: {
        owner: FORBIDDEN,
        other: FORBIDDEN,
        admin: data('true', async (value, { fx, dataSource }) => {
          expect(value).toBe(true);
          expect(await sessionRow(dataSource, fx.session.id)).toBeUndefined();
        }),
      },
    },
  ],
  'Mutation.postMessage': [
    {
      path: ['postMessage'],
      build: (fx) => ({
        query: 'mutation ($input: PostMessageInput!) { postMessage(input: $input) { id content session { id } } }',
        variables: { input: { sessionId: fx.session.id, role: 'USER', content: `Matrix ${fx.tag}` } },
      }),
      expect: {
        owner: data('the new message', posted),
        other: NOT_FOUND,
        admin: data('the new message', posted),
      },
    },
  ],
  'Mutation.deleteMessage': [
    {
      path: ['deleteMessage'],
      build: (fx) => ({ query: 'mutation ($id: ID!) { deleteMessage(id: $id) { id deletedAt } }', variables: { id: fx.message.id } }),
      expect: {
        owner: data('the deleted message', messageDeleted),
        other: NOT_FOUND,
        admin: data('the deleted message', messageDeleted),
      },
    },
    {
      via: 'deleteMessage(id: already soft-deleted message)',
      path: ['deleteMessage'],
      prepare: softDeleteMessage,
      build: (fx) => ({ query: 'mutation ($id: ID!) { deleteMessage(id: $id) { id deletedAt } }', variables: { id: fx.message.id } }),
      expect: { owner: CONFLICT, other: NOT_FOUND, admin: CONFLICT },
    },
  ],
  'Mutation.createSkill': [
    {
      path: ['createSkill'],
      build: (fx) => ({
        query: 'mutation ($input: CreateSkillInput!) { createSkill(input: $input) { id name } }',
        variables: { input: { name: `matrix-new-${fx.tag}` } },
      }),
      expect: {
        owner: FORBIDDEN,
        other: FORBIDDEN,
        admin: data('the new skill', (skill, { fx }) => expect(skill.name).toBe(`matrix-new-${fx.tag}`)),
      },
    },
  ],
  'Mutation.deleteSkill': [
    {
      path: ['deleteSkill'],
      build: (fx) => ({ query: 'mutation ($id: ID!) { deleteSkill(id: $id) }', variables: { id: fx.skill.id } }),
      expect: {
        owner: FORBIDDEN,
        other: FORBIDDEN,
        admin: data('true', (value) => expect(value).toBe(true)),
      },
    },
  ],
  'Mutation.attachSkills': [
    {
      path: ['attachSkills'],
      build: (fx) => ({
        query: `mutation ($sessionId: ID!, $skillIds: [ID!]!) { attachSkills(sessionId: $sessionId, skillIds: $skillIds) { ${SESSION_FIELDS} } }`,
        variables: { sessionId: fx.session.id, skillIds: [fx.spareSkill.id] },
      }),
      expect: {
        owner: data('the session with both skills', attached),
        other: NOT_FOUND,
        admin: data('the session with both skills', attached),
      },
    },
  ],
  'Mutation.detachSkills': [
    {
      path: ['detachSkills'],
      build: (fx) => ({
        query: `mutation ($sessionId: ID!, $skillIds: [ID!]!) { detachSkills(sessionId: $sessionId, skillIds: $skillIds) { ${SESSION_FIELDS} } }`,
        variables: { sessionId: fx.session.id, skillIds: [fx.skill.id] },
      }),
      expect: {
        owner: data('the session without skills', detached),
        other: NOT_FOUND,
        admin: data('the session without skills', detached),
      },
    },
  ],
  'Mutation.reportNodeSync': [
    {
      path: ['reportNodeSync'],
      build: (fx) => ({
        query: `mutation ($input: ReportNodeSyncInput!) { reportNodeSync(input: $input) { ${SESSION_FIELDS} } }`,
        variables: { input: { sessionId: fx.session.id, nodeId: `${fx.nodeId}-b`, status: 'SYNCING' } },
      }),
      expect: {
        owner: data('the syncing session', reported),
        other: NOT_FOUND,
        admin: data('the syncing session', reported),
      },
    },
    {
      via: 'reportNodeSync(sessionId: soft-deleted session)',
      path: ['reportNodeSync'],
      prepare: softDeleteSession,
      build: (fx) => ({
        query: `mutation ($input: ReportNodeSyncInput!) { reportNodeSync(input: $input) { ${SESSION_FIELDS} } }`,
        variables: { input: { sessionId: fx.session.id, nodeId: `${fx.nodeId}-b`, status: 'SYNCING' } },
      }),
      expect: {
        owner: data('the syncing session', reported),
        other: NOT_FOUND,
        admin: data('the syncing session', reported),
      },
    },
  ],
};

/** Type fields that reach other rows (the rest of a type's fields are columns of its own row). */
export const TYPE_FIELDS = [
  'User.sessions',
  'User.sessionCount',
  'Session.owner',
  'Session.skills',
  'Session.messages',
  'Session.messageCount',
  'Session.lastMessage',
  'Session.nodeSync',
  'Message.session',
  'Skill.sessions',
  'Skill.sessionCount',
];

// ---------------------------------------------------------------------------------------------
// Row checks (function declarations, hoisted above the table)
// ---------------------------------------------------------------------------------------------

function catalogue(skills: any) {
  expect(skills.totalCount).toBeGreaterThanOrEqual(2);
  expect(skills.nodes).toHaveLength(1);
}

function onlyTheMessage(connection: any, { fx }: CheckContext) {
  expect(connection.totalCount).toBe(1);
  expect(ids(connection.nodes)).toEqual([fx.message.id]);
}

function theNodeRow(rows: any, { fx }: CheckContext) {
  expect(rows).toEqual([{ nodeId: fx.nodeId, status: 'SYNCED' }]);
}

function ownedByViewer(session: any, { viewer }: CheckContext) {
  expect(session.owner.id).toBe(viewer.id);
}

function isOwnersNewSession(session: any, { fx }: CheckContext) {
  expect(session.owner.id).toBe(fx.owner.id);
  expect(session.id).not.toBe(fx.session.id);
}

function renamed(session: any, { fx }: CheckContext) {
  expect(session).toEqual({ id: fx.session.id, title: `Renamed ${fx.tag}`, version: 2 });
}

function softDeleted(session: any, { fx }: CheckContext) {
  expect(session.id).toBe(fx.session.id);
  expect(session.deletedAt).not.toBeNull();
}

function restored(session: any, { fx }: CheckContext) {
  expect(session).toEqual({ id: fx.session.id, deletedAt: null });
}

function posted(message: any, { fx }: CheckContext) {
  expect(message.session.id).toBe(fx.session.id);
  expect(message.content).toBe(`Matrix ${fx.tag}`);
  expect(message.id).not.toBe(fx.message.id);
}

function messageDeleted(message: any, { fx }: CheckContext) {
  expect(message.id).toBe(fx.message.id);
  expect(message.deletedAt).not.toBeNull();
}

function attached(session: any, { fx }: CheckContext) {
  expect(session.id).toBe(fx.session.id);
  expect(ids(session.skills).sort()).toEqual([fx.skill.id, fx.spareSkill.id].sort());
}

function detached(session: any, { fx }: CheckContext) {
  expect(session.id).toBe(fx.session.id);
  expect(session.skills).toEqual([]);
}

function reported(session: any, { fx }: CheckContext) {
  expect(session.id).toBe(fx.session.id);
  expect(session.isSyncing).toBe(true);
  expect(session.nodeSync).toEqual([
    { nodeId: fx.nodeId, status: 'SYNCED' },
    { nodeId: `${fx.nodeId}-b`, status: 'SYNCING' },
  ]);
}

/**
 * Everything a case's fixtures can reach, read straight from the database: a refused call
 * (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, null, empty) must leave it exactly as it was.
 */
export async function fixtureState(dataSource: DataSource, fx: Fixtures): Promise<unknown> {
  const users = [fx.owner.id, fx.other.id, fx.admin.id];
  const [{ state }] = await dataSource.query(
    `SELECT json_build_object(
       'users', (SELECT json_agg(json_build_object('id', u.id, 'role', u.role) ORDER BY u.id)
                 FROM users u WHERE u.id = ANY($1::uuid[]) OR u.email LIKE $2),
       'sessions', (SELECT json_agg(json_build_object('id', s.id, 'user', s.user_id, 'title', s.title, 'version', s.version,
                      'isSyncing', s.is_syncing, 'updatedAt', s.updated_at, 'deletedAt', s.deleted_at) ORDER BY s.id)
                    FROM sessions s WHERE s.user_id = ANY($1::uuid[])),
       'messages', (SELECT json_agg(json_build_object('id', m.id, 'deletedAt', m.deleted_at) ORDER BY m.id)
                    FROM messages m JOIN sessions s ON s.id = m.session_id WHERE s.user_id = ANY($1::uuid[])),
       'links', (SELECT json_agg(json_build_object('session', l.session_id, 'skill', l.skill_id) ORDER BY l.session_id, l.skill_id)
                 FROM session_skills l JOIN sessions s ON s.id = l.session_id WHERE s.user_id = ANY($1::uuid[])),
       'skills', (SELECT json_agg(json_build_object('id', k.id, 'deletedAt', k.deleted_at) ORDER BY k.id)
                  FROM skills k WHERE k.id = ANY($3::uuid[]) OR k.name LIKE $4),
       'nodeSync', (SELECT json_agg(json_build_object('session', n.session_id, 'node', n.node_id, 'status', n.status,
                      'error', n.error, 'updatedAt', n.updated_at) ORDER BY n.session_id, n.node_id)
                    FROM session_node_sync n JOIN sessions s ON s.id = n.session_id WHERE s.user_id = ANY($1::uuid[]))
     ) AS state`,
    [users, `matrix-${fx.tag}%`, [fx.skill.id, fx.spareSkill.id], `matrix-new-${fx.tag}`],
  );
  return state;
}
