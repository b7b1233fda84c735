import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SyncStatus } from '../../src/node-sync/node-sync.entity';
import { Message } from '../../src/messages/message.entity';
import { Session } from '../../src/sessions/session.entity';
import { Skill } from '../../src/skills/skill.entity';
import { User } from '../../src/users/user.entity';
import { bytesOf, headersOf, POST_AUDIO, reachable, send, upload } from '../audio/support';
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
  /** The owner's completed audio upload to the session (`withOwnersUpload`), and the message
   * holding it (`withOwnersAudioMessage`). */
  audio?: { key: string; bytes: Buffer; messageId?: string };
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
  | { kind: 'error'; code: 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'BAD_USER_INPUT' };

export interface CheckContext {
  fx: Fixtures;
  /** The authenticated caller (owner, other or admin). */
  viewer: User;
  dataSource: DataSource;
  /** The server under test (its HTTP routes: audio uploads and downloads). */
  server: TestServer;
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
/** An audio key that is not the caller's own upload: refused, with nothing written. */
export const BAD_USER_INPUT: Outcome = { kind: 'error', code: 'BAD_USER_INPUT' };

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

/** The fixture message becomes a STREAMING one the owner posted (empty so far). */
async function withStreamingMessage(fx: Fixtures, t: TestServer): Promise<void> {
  const result = await t.gql('mutation ($input: PostMessageInput!) { postMessage(input: $input) { id } }', {
    input: { sessionId: fx.session.id, role: 'ASSISTANT', content: '', status: 'STREAMING' },
  }, { as: fx.owner });
  if (result.errors) throw new Error(`could not open a streaming message: ${JSON.stringify(result.errors)}`);
  fx.message = { ...fx.message, id: result.data.postMessage.id } as Message;
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

/** The owner uploads 16 bytes into the session through the API (createAudioUpload + PUT). */
async function withOwnersUpload(fx: Fixtures, t: TestServer): Promise<void> {
  const bytes = bytesOf(16);
  fx.audio = { key: (await upload(t, fx.owner, fx.session.id, bytes)).key, bytes };
}

/** …and posts a message holding it. */
async function withOwnersAudioMessage(fx: Fixtures, t: TestServer): Promise<void> {
  await withOwnersUpload(fx, t);
  const audio = { key: fx.audio!.key, contentType: 'audio/ogg', byteSize: 16 };
  const result = await t.gql(POST_AUDIO, { input: { sessionId: fx.session.id, role: 'USER', content: `Voice ${fx.tag}`, audio } }, { as: fx.owner });
  if (result.errors) throw new Error(`could not post the fixture audio message: ${JSON.stringify(result.errors)}`);
  fx.audio!.messageId = result.data.postMessage.id;
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

type Expect = Row['expect'];

/**
 * One row: the GraphQL document, its variables from the fixtures, the value the outcome is about
 * (`path`, dot-separated from `data`) and what each authenticated caller gets. `via` names the way
 * in when a coordinate has several rows or is a type field; `prepare` sets the fixtures up first.
 */
function row(
  path: string,
  query: string,
  variables: (fx: Fixtures) => Record<string, unknown>,
  expect: Expect,
  more: Pick<Row, 'via' | 'prepare'> = {},
): Row {
  return { ...more, path: path.split('.'), build: (fx) => ({ query, variables: variables(fx) }), expect };
}

/** The owner and the admin get `outcome`; the other member gets `other`. */
const ownerAndAdmin = (outcome: Outcome, other: Outcome): Expect => ({ owner: outcome, other, admin: outcome });
/** Members are FORBIDDEN; the admin gets `outcome`. */
const adminOnly = (outcome: Outcome): Expect => ({ owner: FORBIDDEN, other: FORBIDDEN, admin: outcome });
/** Every authenticated caller gets `outcome`. */
const everyone = (outcome: Outcome): Expect => ({ owner: outcome, other: outcome, admin: outcome });

const noVariables = () => ({});
const sessionId = (fx: Fixtures) => ({ id: fx.session.id });
const messageId = (fx: Fixtures) => ({ id: fx.message.id });
const skillId = (fx: Fixtures) => ({ id: fx.skill.id });
const ownerId = (fx: Fixtures) => ({ id: fx.owner.id });
const ownerFilter = (fx: Fixtures) => ({ userId: fx.owner.id });

const NODE = 'query ($id: ID!) { node(id: $id) { __typename id } }';
const everyNode = (fx: Fixtures) => ({ ids: [fx.session.id, fx.message.id, fx.owner.id, fx.skill.id] });
function allFourNodes(value: any, { fx }: CheckContext) {
  expect(value).toEqual([
    { __typename: 'Session', id: fx.session.id },
    { __typename: 'Message', id: fx.message.id },
    { __typename: 'User', id: fx.owner.id },
    { __typename: 'Skill', id: fx.skill.id },
  ]);
}
const USER_SESSIONS = `query ($id: ID!) { user(id: $id) { sessions ${CONNECTION} } }`;
const SKILL_SESSIONS = `query ($id: ID!) { skill(id: $id) { sessions ${CONNECTION} } }`;
const SKILL_SESSION_COUNT = 'query ($id: ID!) { skill(id: $id) { sessionCount } }';
const UPDATE_SESSION = 'mutation ($id: ID!, $input: UpdateSessionInput!) { updateSession(id: $id, input: $input) { id title version } }';
const RESTORE_SESSION = 'mutation ($id: ID!) { restoreSession(id: $id) { id deletedAt } }';
const CREATE_SESSION = 'mutation ($input: CreateSessionInput!) { createSession(input: $input) { id owner { id } } }';
const DELETE_MESSAGE = 'mutation ($id: ID!) { deleteMessage(id: $id) { id deletedAt } }';
const APPEND_CONTENT = 'mutation ($id: ID!) { appendMessageContent(id: $id, delta: "x", offset: 0) { id content status } }';
const FINISH_MESSAGE = 'mutation ($id: ID!) { finishMessage(id: $id, status: COMPLETE) { id status } }';
const REPORT_NODE_SYNC = `mutation ($input: ReportNodeSyncInput!) { reportNodeSync(input: $input) { ${SESSION_FIELDS} } }`;
const CREATE_AUDIO_UPLOAD =
  'mutation ($input: CreateAudioUploadInput!) { createAudioUpload(input: $input) { key uploadUrl method headers { name value } expiresAt } }';
const audioUploadInput = (fx: Fixtures) => ({ input: { sessionId: fx.session.id, contentType: 'audio/ogg', byteSize: 16 } });
const nodeSyncReport = (fx: Fixtures) => ({ input: { sessionId: fx.session.id, nodeId: `${fx.nodeId}-b`, status: 'SYNCING' } });

/**
 * Every `Query.*` and `Mutation.*` field of schema.graphql plus the type fields that reach other
 * rows. The completeness test fails when a schema field has no row (or a row names no field).
 */
export const MATRIX: Record<string, Row[]> = {
  // ----------------------------------------------------------------------------- Query
  'Query.me': [
    row('me', '{ me { id role } }', noVariables, {
      owner: data('own record', (me, { viewer }) => expect(me).toEqual({ id: viewer.id, role: 'MEMBER' })),
      other: data('own record', (me, { viewer }) => expect(me).toEqual({ id: viewer.id, role: 'MEMBER' })),
      admin: data('own record', (me, { viewer }) => expect(me).toEqual({ id: viewer.id, role: 'ADMIN' })),
    }),
  ],
  'Query.user': [
    row('user', 'query ($id: ID!) { user(id: $id) { id email } }', ownerId, ownerAndAdmin(data('the owner', isOwner), NULL), {
      via: 'user(id: owner)',
    }),
  ],
  'Query.users': [
    row(
      'users',
      '{ users(first: 1) { totalCount nodes { id } } }',
      noVariables,
      adminOnly(
        data('a page of users', (users) => {
          expect(users.totalCount).toBeGreaterThanOrEqual(3);
          expect(users.nodes).toHaveLength(1);
        }),
      ),
    ),
  ],
  'Query.session': [
    row('session', 'query ($id: ID!) { session(id: $id) { id title } }', sessionId, ownerAndAdmin(data('the session', isSession), NULL), {
      via: 'session(id: owner’s session)',
    }),
  ],
  'Query.sessions': [
    row('sessions', `query ($userId: ID!) { sessions(filter: { userId: $userId }) ${CONNECTION} }`, ownerFilter,
      ownerAndAdmin(data('the session', onlyTheSession), EMPTY), { via: 'sessions(filter: { userId: owner })' }),
    row('sessions', `query ($userId: ID!) { sessions(filter: { userId: $userId, deleted: ALL }) ${CONNECTION} }`, ownerFilter,
      ownerAndAdmin(data('the soft-deleted session', onlyTheSession), EMPTY),
      { via: 'sessions(filter: { userId: owner, deleted: ALL })', prepare: softDeleteSession }),
  ],
  // The dashboards (issue 27) read the owner's rows through the same scope: another member's
  // filter on the owner finds nothing, counts nothing.
  'Query.searchMessages': [
    row('searchMessages', `query ($userId: ID!) { searchMessages(query: "hello", filter: { userId: $userId }) { totalCount nodes { id } } }`, ownerFilter,
      ownerAndAdmin(data('the message', (value, { fx }) => expect(ids(value.nodes)).toEqual([fx.message.id])), EMPTY),
      { via: 'searchMessages(filter: { userId: owner })' }),
  ],
  'Query.activity': [
    row('activity', `query ($userId: ID!, $from: DateTime!, $to: DateTime!) {
        activity(from: $from, to: $to, bucket: DAY, filter: { userId: $userId }) { messagesPosted sessionsCreated } }`,
      (fx) => ({ userId: fx.owner.id, from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() }),
      ownerAndAdmin(data('the message and the session counted', postedOnce), data('zeros', postedNothing)),
      { via: 'activity(filter: { userId: owner })' }),
  ],
  'Query.nodeSyncSummary': [
    row('nodeSyncSummary', 'query ($userId: ID!) { nodeSyncSummary(filter: { userId: $userId }) { nodeId counts { status count } } }', ownerFilter,
      ownerAndAdmin(data('the node, one session synced', (value, { fx }) => {
        expect(value.map((n: { nodeId: string }) => n.nodeId)).toEqual([fx.nodeId]);
        expect(value[0].counts).toContainEqual({ status: 'SYNCED', count: 1 });
      }), EMPTY),
      { via: 'nodeSyncSummary(filter: { userId: owner })' }),
  ],
  'Query.skill': [
    row('skill', 'query ($id: ID!) { skill(id: $id) { id name } }', skillId,
      everyone(data('the skill', (skill, { fx }) => expect(skill.id).toBe(fx.skill.id)))),
  ],
  'Query.skills': [row('skills', '{ skills(first: 1) { totalCount nodes { id name } } }', noVariables, everyone(data('the catalogue', catalogue)))],
  'Query.message': [
    row('message', 'query ($id: ID!) { message(id: $id) { id content } }', messageId, ownerAndAdmin(data('the message', isMessage), NULL), {
      via: 'message(id: owner’s message)',
    }),
    row('message.audio', 'query ($id: ID!) { message(id: $id) { audio { key url contentType byteSize } } }', (fx) => ({ id: fx.audio!.messageId }),
      ownerAndAdmin(data('the audio, its URL serving the bytes', servesTheBytes), NULL),
      { via: 'message(id: owner’s audio message) { audio } and a GET of its signed URL', prepare: withOwnersAudioMessage }),
  ],
  // Node lookups follow each type's own rules: another member's ids are null, as absent ones.
  'Query.node': [
    row('node', NODE, sessionId, ownerAndAdmin(data('the session', isSession), NULL), { via: 'node(id: owner’s session)' }),
    row('node', NODE, messageId, ownerAndAdmin(data('the message', isMessage), NULL), { via: 'node(id: owner’s message)' }),
    row('node', NODE, ownerId, ownerAndAdmin(data('the owner', isOwner), NULL), { via: 'node(id: owner)' }),
    row('node', NODE, skillId, everyone(data('the skill', (skill, { fx }) => expect(skill.id).toBe(fx.skill.id))), { via: 'node(id: skill)' }),
    row('node', NODE, sessionId, { owner: NULL, other: NULL, admin: NULL }, { via: 'node(id: soft-deleted session)', prepare: softDeleteSession }),
  ],
  'Query.nodes': [
    row('nodes', 'query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }', everyNode, {
      owner: data('all four', allFourNodes),
      other: data('only the skill', (value, { fx }) => expect(value).toEqual([null, null, null, { __typename: 'Skill', id: fx.skill.id }])),
      admin: data('all four', allFourNodes),
    }),
  ],

  // ----------------------------------------------------------------------------- Subscription
  // Run over graphql-ws while the owner posts a message (test/live/support/matrix-subscription.ts):
  // the value is the list of events that write produced for the caller.
  'Subscription.sessionChanged': [
    row('sessionChanged', 'subscription { sessionChanged { kind sessionId } }', noVariables,
      ownerAndAdmin(data('the session’s UPDATED change', changedTheSession), EMPTY)),
  ],
  'Subscription.messageAdded': [
    row('messageAdded', 'subscription ($id: ID!) { messageAdded(sessionId: $id) { cursor node { id content } } }', sessionId,
      ownerAndAdmin(data('the posted message', postedTheMessage), NOT_FOUND)),
  ],
  'Subscription.messageChanged': [
    row('messageChanged', 'subscription ($id: ID!) { messageChanged(sessionId: $id) { kind messageId cursor } }', sessionId,
      ownerAndAdmin(data('the ADDED change', addedTheMessage), NOT_FOUND)),
  ],

  // ----------------------------------------------------------------------------- type fields
  'User.sessions': [
    row('user.sessions', USER_SESSIONS, ownerId, ownerAndAdmin(data('the session', onlyTheSession), NULL), { via: 'user(id: owner) { sessions }' }),
    // Combined with the viewer: anyone but the owner gets an empty list, the admin included.
    row('me.sessions', `query ($userId: ID!) { me { sessions(filter: { userId: $userId }) ${CONNECTION} } }`, ownerFilter,
      { owner: data('the session', onlyTheSession), other: EMPTY, admin: EMPTY }, { via: 'me { sessions(filter: { userId: owner }) }' }),
  ],
  'User.sessionCount': [
    row('user.sessionCount', 'query ($id: ID!) { user(id: $id) { sessionCount } }', ownerId, ownerAndAdmin(data('1', isOne), NULL), {
      via: 'user(id: owner) { sessionCount }',
    }),
    row('me.sessionCount', '{ me { sessionCount } }', noVariables, { owner: data('1', isOne), other: EMPTY, admin: EMPTY }, { via: 'me { sessionCount }' }),
  ],
  'SessionChange.session': [
    row('sessionChanged', 'subscription { sessionChanged { sessionId session { id title } } }', noVariables,
      ownerAndAdmin(data('the session after the change', changeCarriesTheSession), EMPTY), { via: 'sessionChanged { session }' }),
  ],
  'MessageChange.message': [
    row('messageChanged', 'subscription ($id: ID!) { messageChanged(sessionId: $id) { messageId message { id content } } }', sessionId,
      ownerAndAdmin(data('the posted message', changeCarriesTheMessage), NOT_FOUND), { via: 'messageChanged { message }' }),
  ],
  'Session.owner': [
    row('session.owner', 'query ($id: ID!) { session(id: $id) { owner { id } } }', sessionId, ownerAndAdmin(data('the owner', isOwner), NULL), {
      via: 'session(id) { owner }',
    }),
  ],
  'Session.skills': [
    row('session.skills', 'query ($id: ID!) { session(id: $id) { skills { id } } }', sessionId,
      ownerAndAdmin(data('the linked skill', (skills, { fx }) => expect(ids(skills)).toEqual([fx.skill.id])), NULL), { via: 'session(id) { skills }' }),
  ],
  'Session.messages': [
    row('session.messages', `query ($id: ID!) { session(id: $id) { messages ${CONNECTION} } }`, sessionId,
      ownerAndAdmin(data('the message', onlyTheMessage), NULL), { via: 'session(id) { messages }' }),
  ],
  'Session.messageCount': [
    row('session.messageCount', 'query ($id: ID!) { session(id: $id) { messageCount } }', sessionId, ownerAndAdmin(data('1', isOne), NULL), {
      via: 'session(id) { messageCount }',
    }),
  ],
  'Session.lastMessage': [
    row('session.lastMessage', 'query ($id: ID!) { session(id: $id) { lastMessage { id } } }', sessionId,
      ownerAndAdmin(data('the message', isMessage), NULL), { via: 'session(id) { lastMessage }' }),
  ],
  'Session.nodeSync': [
    row('session.nodeSync', 'query ($id: ID!) { session(id: $id) { nodeSync { nodeId status } } }', sessionId,
      ownerAndAdmin(data('the node row', theNodeRow), NULL), { via: 'session(id) { nodeSync }' }),
  ],
  'Message.session': [
    row('message.session', 'query ($id: ID!) { message(id: $id) { session { id } } }', messageId, ownerAndAdmin(data('the session', isSession), NULL), {
      via: 'message(id) { session }',
    }),
  ],
  'Skill.sessions': [
    row('skill.sessions', SKILL_SESSIONS, skillId, ownerAndAdmin(data('the session', onlyTheSession), EMPTY), { via: 'skill(id) { sessions }' }),
    row('skill.sessions', SKILL_SESSIONS, skillId, {
      owner: data('only the owner’s session', onlyTheSession),
      other: data('only their own session', (connection, { fx }) => {
        expect(connection.totalCount).toBe(1);
        expect(ids(connection.nodes)).toEqual([fx.othersSession!.id]);
      }),
      admin: data('both sessions', (connection, { fx }) => {
        expect(connection.totalCount).toBe(2);
        expect(ids(connection.nodes).sort()).toEqual([fx.session.id, fx.othersSession!.id].sort());
      }),
    }, { via: 'skill(id) { sessions } with the other member’s session attached too', prepare: withOthersSessionOnSkill }),
  ],
  'Skill.sessionCount': [
    row('skill.sessionCount', SKILL_SESSION_COUNT, skillId, ownerAndAdmin(data('1', isOne), EMPTY), { via: 'skill(id) { sessionCount }' }),
    row('skill.sessionCount', SKILL_SESSION_COUNT, skillId,
      { owner: data('1', isOne), other: data('1', isOne), admin: data('2', (count) => expect(count).toBe(2)) },
      { via: 'skill(id) { sessionCount } with the other member’s session attached too', prepare: withOthersSessionOnSkill }),
  ],

  // ----------------------------------------------------------------------------- Mutation
  'Mutation.createUser': [
    row('createUser', 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id email role } }',
      (fx) => ({ input: { email: `matrix-${fx.tag}@test.hub`, displayName: 'Matrix user' } }),
      adminOnly(data('the new user', (user, { fx }) => expect(user).toMatchObject({ email: `matrix-${fx.tag}@test.hub`, role: 'MEMBER' })))),
  ],
  'Mutation.deleteUsers': [
    row('deleteUsers', 'mutation ($ids: [ID!]!) { deleteUsers(ids: $ids) { deletedCount } }', (fx) => ({ ids: [fx.owner.id] }),
      adminOnly(
        data('deletedCount 1', async (payload, { fx, dataSource }) => {
          expect(payload).toEqual({ deletedCount: 1 });
          expect(await sessionRow(dataSource, fx.session.id)).toBeUndefined();
        }),
      ),
      { via: 'deleteUsers(ids: [owner])' }),
  ],
  'Mutation.createSession': [
    row('createSession', CREATE_SESSION, (fx) => ({ input: { title: `Matrix new ${fx.tag}` } }), everyone(data('own session', ownedByViewer)), {
      via: 'createSession(input: { title })',
    }),
    // Naming yourself is not naming "another owner".
    row('createSession', CREATE_SESSION, (fx) => ({ input: { title: `Matrix new ${fx.tag}`, ownerId: fx.owner.id } }),
      ownerAndAdmin(data('owner’s session', isOwnersNewSession), FORBIDDEN), { via: 'createSession(input: { title, ownerId: owner })' }),
  ],
  'Mutation.updateSession': [
    row('updateSession', UPDATE_SESSION, (fx) => ({ id: fx.session.id, input: { title: `Renamed ${fx.tag}` } }),
      ownerAndAdmin(data('the renamed session', renamed), NOT_FOUND)),
    row('updateSession', UPDATE_SESSION, (fx) => ({ id: fx.session.id, input: { title: `Renamed ${fx.tag}`, expectedVersion: 7 } }),
      ownerAndAdmin(CONFLICT, NOT_FOUND), { via: 'updateSession(input: { expectedVersion: stale })' }),
  ],
  'Mutation.deleteSession': [
    row('deleteSession', DELETE_SESSION, sessionId, ownerAndAdmin(data('the deleted session', softDeleted), NOT_FOUND)),
    row('deleteSession', DELETE_SESSION, sessionId, ownerAndAdmin(CONFLICT, NOT_FOUND), {
      via: 'deleteSession(id: already soft-deleted session)',
      prepare: softDeleteSession,
    }),
  ],
  'Mutation.restoreSession': [
    row('restoreSession', RESTORE_SESSION, sessionId, ownerAndAdmin(data('the restored session', restored), NOT_FOUND), {
      via: 'restoreSession(id: soft-deleted session)',
      prepare: softDeleteSession,
    }),
    row('restoreSession', RESTORE_SESSION, sessionId, ownerAndAdmin(CONFLICT, NOT_FOUND), { via: 'restoreSession(id: live session)' }),
  ],
  'Mutation.purgeSession': [
    row('purgeSession', 'mutation ($id: ID!) { purgeSession(id: $id) }', sessionId,
      adminOnly(
        data('true', async (value, { fx, dataSource }) => {
          expect(value).toBe(true);
          expect(await sessionRow(dataSource, fx.session.id)).toBeUndefined();
        }),
      )),
  ],
  'Mutation.postMessage': [
    row('postMessage', 'mutation ($input: PostMessageInput!) { postMessage(input: $input) { id content session { id } } }',
      (fx) => ({ input: { sessionId: fx.session.id, role: 'USER', content: `Matrix ${fx.tag}` } }),
      ownerAndAdmin(data('the new message', posted), NOT_FOUND)),
    // Only the uploader attaches a key: an admin may post to the session, but not with another's upload.
    row('postMessage', 'mutation ($input: PostMessageInput!) { postMessage(input: $input) { id session { id } audio { key } } }',
      (fx) => ({
        input: { sessionId: fx.session.id, role: 'USER', content: `Matrix ${fx.tag}`, audio: { key: fx.audio!.key, contentType: 'audio/ogg', byteSize: 16 } },
      }),
      { owner: data('the new message with the audio', postedAudio), other: NOT_FOUND, admin: BAD_USER_INPUT },
      { via: 'postMessage(audio: the owner’s completed upload)', prepare: withOwnersUpload }),
  ],
  'Mutation.createAudioUpload': [
    row('createAudioUpload', CREATE_AUDIO_UPLOAD, audioUploadInput, ownerAndAdmin(data('an upload URL that takes the bytes once', takesTheBytes), NOT_FOUND),
      { via: 'createAudioUpload(sessionId: owner’s session) and a PUT to the upload URL' }),
    row('createAudioUpload', CREATE_AUDIO_UPLOAD, audioUploadInput, everyone(NOT_FOUND),
      { via: 'createAudioUpload(sessionId: soft-deleted session)', prepare: softDeleteSession }),
  ],
  'Mutation.appendMessageContent': [
    row('appendMessageContent', APPEND_CONTENT, messageId, ownerAndAdmin(data('the grown message', appended), NOT_FOUND), {
      via: 'appendMessageContent(id: owner’s streaming message)',
      prepare: withStreamingMessage,
    }),
    row('appendMessageContent', APPEND_CONTENT, messageId, ownerAndAdmin(CONFLICT, NOT_FOUND), { via: 'appendMessageContent(id: COMPLETE message)' }),
  ],
  'Mutation.finishMessage': [
    row('finishMessage', FINISH_MESSAGE, messageId, ownerAndAdmin(data('the finished message', finished), NOT_FOUND), {
      via: 'finishMessage(id: owner’s streaming message)',
      prepare: withStreamingMessage,
    }),
  ],
  'Mutation.deleteMessage': [
    row('deleteMessage', DELETE_MESSAGE, messageId, ownerAndAdmin(data('the deleted message', messageDeleted), NOT_FOUND)),
    row('deleteMessage', DELETE_MESSAGE, messageId, ownerAndAdmin(CONFLICT, NOT_FOUND), {
      via: 'deleteMessage(id: already soft-deleted message)',
      prepare: softDeleteMessage,
    }),
  ],
  'Mutation.createSkill': [
    row('createSkill', 'mutation ($input: CreateSkillInput!) { createSkill(input: $input) { id name } }',
      (fx) => ({ input: { name: `matrix-new-${fx.tag}` } }),
      adminOnly(data('the new skill', (skill, { fx }) => expect(skill.name).toBe(`matrix-new-${fx.tag}`)))),
  ],
  'Mutation.deleteSkill': [
    row('deleteSkill', 'mutation ($id: ID!) { deleteSkill(id: $id) }', skillId, adminOnly(data('true', (value) => expect(value).toBe(true)))),
  ],
  'Mutation.attachSkills': [
    row('attachSkills',
      `mutation ($sessionId: ID!, $skillIds: [ID!]!) { attachSkills(sessionId: $sessionId, skillIds: $skillIds) { ${SESSION_FIELDS} } }`,
      (fx) => ({ sessionId: fx.session.id, skillIds: [fx.spareSkill.id] }),
      ownerAndAdmin(data('the session with both skills', attached), NOT_FOUND)),
  ],
  'Mutation.detachSkills': [
    row('detachSkills',
      `mutation ($sessionId: ID!, $skillIds: [ID!]!) { detachSkills(sessionId: $sessionId, skillIds: $skillIds) { ${SESSION_FIELDS} } }`,
      (fx) => ({ sessionId: fx.session.id, skillIds: [fx.skill.id] }),
      ownerAndAdmin(data('the session without skills', detached), NOT_FOUND)),
  ],
  'Mutation.reportNodeSync': [
    row('reportNodeSync', REPORT_NODE_SYNC, nodeSyncReport, ownerAndAdmin(data('the syncing session', reported), NOT_FOUND)),
    row('reportNodeSync', REPORT_NODE_SYNC, nodeSyncReport, ownerAndAdmin(data('the syncing session', reported), NOT_FOUND), {
      via: 'reportNodeSync(sessionId: soft-deleted session)',
      prepare: softDeleteSession,
    }),
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
  'SessionChange.session',
  'MessageChange.message',
];

// ---------------------------------------------------------------------------------------------
// Row checks (function declarations, hoisted above the table)
// ---------------------------------------------------------------------------------------------

const sum = (buckets: { messagesPosted: number; sessionsCreated: number }[], key: 'messagesPosted' | 'sessionsCreated') =>
  buckets.reduce((total, b) => total + b[key], 0);
function postedOnce(buckets: any) {
  expect([sum(buckets, 'messagesPosted'), sum(buckets, 'sessionsCreated')]).toEqual([1, 1]);
}
function postedNothing(buckets: any) {
  expect(buckets.length).toBeGreaterThan(0);
  expect([sum(buckets, 'messagesPosted'), sum(buckets, 'sessionsCreated')]).toEqual([0, 0]);
}

/** Exactly one change, UPDATED, of the fixture session (the message the owner posted). */
function changedTheSession(events: any, { fx }: CheckContext) {
  expect(events).toEqual([{ kind: 'UPDATED', sessionId: fx.session.id }]);
}

function changeCarriesTheSession(events: any, { fx }: CheckContext) {
  expect(events).toEqual([{ sessionId: fx.session.id, session: { id: fx.session.id, title: fx.session.title } }]);
}

/** Exactly the message the owner posted, with a cursor. */
function postedTheMessage(events: any, { fx }: CheckContext) {
  expect(events).toEqual([{ cursor: expect.any(String), node: { id: expect.any(String), content: `trigger ${fx.tag}` } }]);
}

/** The owner's post as an ADDED change, with a cursor to resume from. */
function addedTheMessage(events: any) {
  expect(events).toEqual([{ kind: 'ADDED', messageId: expect.any(String), cursor: expect.any(String) }]);
}

function changeCarriesTheMessage(events: any, { fx }: CheckContext) {
  expect(events).toEqual([{ messageId: expect.any(String), message: { id: events[0]?.messageId, content: `trigger ${fx.tag}` } }]);
}

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

function postedAudio(message: any, { fx }: CheckContext) {
  expect(message.session.id).toBe(fx.session.id);
  expect(message.audio).toEqual({ key: fx.audio!.key });
}

/** The signed URL serves the bytes to whoever holds it (no bearer token needed: it is the
 * capability), and nothing without its signature or with it moved to another key. */
async function servesTheBytes(audio: any, { fx, server }: CheckContext) {
  expect(audio).toMatchObject({ key: fx.audio!.key, contentType: 'audio/ogg', byteSize: 16 });
  const url = new URL(reachable(server, audio.url));
  const fetched = await send('GET', url.toString(), {});
  expect(fetched.status).toBe(200);
  expect(fetched.body.equals(fx.audio!.bytes)).toBe(true);
  const unsigned = new URL(url);
  unsigned.search = '';
  expect((await send('GET', unsigned.toString(), {})).status).toBe(403);
  const elsewhere = new URL(url);
  elsewhere.pathname = `/audio/${fx.session.id}/other.ogg`;
  expect((await send('GET', elsewhere.toString(), {})).json().error.code).toBe('SIGNATURE_INVALID');
}

/** The upload URL takes exactly the declared bytes once, into an upload row of the caller. */
async function takesTheBytes(made: any, { fx, viewer, dataSource, server }: CheckContext) {
  expect(made.key).toMatch(new RegExp(`^audio/${fx.session.id}/[0-9a-f]{32}\\.ogg$`));
  const url = reachable(server, made.uploadUrl);
  const unsigned = new URL(url);
  unsigned.search = '';
  expect((await send('PUT', unsigned.toString(), headersOf(made), bytesOf(16))).status).toBe(403);
  expect((await send(made.method, url, headersOf(made), bytesOf(16))).status).toBe(200);
  expect((await send(made.method, url, headersOf(made), bytesOf(16))).json().error.code).toBe('UPLOAD_COMPLETED');
  const [row] = await dataSource.query('SELECT user_id, session_id, byte_size, completed_at FROM audio_uploads WHERE key = $1', [made.key]);
  expect(row).toMatchObject({ user_id: viewer.id, session_id: fx.session.id, byte_size: 16, completed_at: expect.any(Date) });
}

function appended(message: any, { fx }: CheckContext) {
  expect(message).toEqual({ id: fx.message.id, content: 'x', status: 'STREAMING' });
}

function finished(message: any, { fx }: CheckContext) {
  expect(message).toEqual({ id: fx.message.id, status: 'COMPLETE' });
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
                    FROM session_node_sync n JOIN sessions s ON s.id = n.session_id WHERE s.user_id = ANY($1::uuid[])),
       'audioUploads', (SELECT json_agg(json_build_object('key', a.key, 'user', a.user_id, 'session', a.session_id,
                      'completedAt', a.completed_at, 'message', a.message_id) ORDER BY a.key)
                    FROM audio_uploads a WHERE a.user_id = ANY($1::uuid[]) OR a.session_id IN (SELECT id FROM sessions WHERE user_id = ANY($1::uuid[])))
     ) AS state`,
    [users, `matrix-${fx.tag}%`, [fx.skill.id, fx.spareSkill.id], `matrix-new-${fx.tag}`],
  );
  return state;
}
