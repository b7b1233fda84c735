/**
 * Bad input: property-based fuzzing (fast-check) of GraphQL documents, variables, cursors, ids,
 * headers and JSON bodies against the real HTTP app. Whatever comes in, the answer is never a
 * 5xx, never an error without a code from the API's vocabulary, never INTERNAL_SERVER_ERROR,
 * and the server keeps serving. The classes of issue #12 each have a property of their own:
 * fragment graphs, token bombs, cost-bypass documents, content encodings, header bytes,
 * documentId requests in every trusted-documents mode, and every component of every cursor
 * kind; their 4xx answers must be in the API's JSON error format. Cases run per class and the
 * 5xx seen are written to test-artifacts/reliability-fuzz.json (`byClass`).
 */
import { createHash, createHmac } from 'node:crypto';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'graphql';
import { parseLsn } from '../../src/db/replicas';
import { factories } from '../factories';
import { startTestServer, TEST_SECRET, TestServer } from '../harness';
import { findViolations } from '../invariants';
import { User } from '../../src/users/user.entity';
import { objectsIn, printDocument, roots } from '../support/cost-documents';
import { documentId, encodedBody, forgedCursor, fragmentChain, fragmentGraph, headerBomb, oddHeaderValue, printFragmentGraph, tokenBomb, tokensOf } from '../support/hostile';
import { RawAnswer, rawRequest, rawSocketRequest } from '../support/raw-http';
import { tally, writeFigures } from './support/figures';
import { API_CODES, HttpResult, request } from './support/http';

let t: TestServer;
/** The same app with a token limit far above the default, so documents reach the fragment limits. */
let roomy: TestServer;
/** Trusted documents (the example client's manifest) in `allow` and `require` mode; `t` is `off`. */
let allow: TestServer;
let require_: TestServer;
const MANIFEST = path.resolve(__dirname, '../../examples/dashboard-client/gql/persisted-documents.json');
const [[DASHBOARD_ID, DASHBOARD_TEXT]] = Object.entries(require(MANIFEST) as Record<string, string>);
let admin: User;
let member: User;
let other: User;
const ids = { sessions: [] as string[], otherSessions: [] as string[], messages: [] as string[], skills: [] as string[], users: [] as string[] };
const cursors: string[] = [];
const figures: Record<string, unknown> = {};
const outcomesByTarget: Record<string, string[]> = {};

/** Real cursors by list (`field orderBy`), for forging every component of every kind. */
const cursorsByList: Record<string, string[]> = {};
const parents = { session: '', user: '', skill: '' };

beforeAll(async () => {
  // Every generated document reaches the parser and validation, not the new-document budget.
  const lifted = { HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '1000000' };
  const trusted = { ...lifted, HUB_TRUSTED_DOCUMENTS_FILE: MANIFEST };
  [t, roomy, allow, require_] = await Promise.all([
    startTestServer(lifted),
    startTestServer({ ...lifted, HUB_MAX_QUERY_TOKENS: '100000' }),
    startTestServer({ ...trusted, HUB_TRUSTED_DOCUMENTS: 'allow' }),
    startTestServer({ ...trusted, HUB_TRUSTED_DOCUMENTS: 'require' }),
  ]);
  const f = factories(t.dataSource);
  admin = await f.admin();
  member = await f.user();
  other = await f.user();
  ids.users.push(admin.id, member.id, other.id);
  for (let i = 0; i < 3; i += 1) ids.skills.push((await f.skill()).id);
  for (const [owner, list] of [[member, ids.sessions], [other, ids.otherSessions]] as const) {
    for (let i = 0; i < 4; i += 1) {
      const session = await f.session(owner);
      list.push(session.id);
      for (let k = 0; k < 3; k += 1) ids.messages.push((await f.message(session)).id);
      await f.link(session, { id: ids.skills[i % 3] } as never);
    }
  }
  const page = await t.gql(`{ sessions(first: 5) { edges { cursor node { messages(first: 2) { edges { cursor } } } } } users(first: 3) { edges { cursor } } skills(first: 2) { edges { cursor } } }`, {}, { as: admin });
  const d = page.data;
  for (const e of d.sessions.edges) cursors.push(e.cursor, ...e.node.messages.edges.map((m: any) => m.cursor));
  cursors.push(...d.users.edges.map((e: any) => e.cursor), ...d.skills.edges.map((e: any) => e.cursor));
  expect(cursors.length).toBeGreaterThan(5);
  // The lists under one row page that row's children: rows of their own, which no mutation of
  // the other properties can name (they draw from `ids`), so the parents are there to the end.
  const owner = await f.user();
  const ownSession = await f.session(owner);
  for (let k = 0; k < 4; k += 1) await f.message(ownSession);
  await f.session(owner);
  const ownSkill = await f.skill();
  await f.link(ownSession, ownSkill);
  parents.session = ownSession.id;
  parents.user = owner.id;
  parents.skill = ownSkill.id;
  for (const list of CURSOR_LISTS) {
    for (const order of list.orders) {
      const r = await t.gql(list.doc, { first: 3, o: order, id: list.id?.() }, { as: admin });
      cursorsByList[`${list.name} ${order}`] = list.edges(r.data).map((e: { cursor: string }) => e.cursor);
    }
  }
  expect(Object.values(cursorsByList).every((list) => list.length > 0)).toBe(true);
});

afterAll(async () => {
  const totals = Object.values(outcomesByTarget).reduce((sum, list) => sum + list.length, 0);
  // Per class of input (the part of the target before ':'): cases run and answers >= 500 seen.
  const byClass: Record<string, { cases: number; fiveXX: number }> = {};
  for (const [target, list] of Object.entries(outcomesByTarget)) {
    const entry = (byClass[target.split(':')[0]] ??= { cases: 0, fiveXX: 0 });
    entry.cases += list.length;
    entry.fiveXX += list.filter((label) => /^5\d\d /.test(label)).length;
  }
  writeFigures('fuzz', {
    cases: totals,
    fiveXX: Object.values(byClass).reduce((sum, c) => sum + c.fiveXX, 0),
    byClass,
    problems: Object.fromEntries(problems),
    byTarget: Object.fromEntries(Object.entries(outcomesByTarget).map(([k, v]) => [k, { cases: v.length, outcomes: tally(v) }])),
    ...figures,
  });
  await Promise.all([t?.close(), roomy?.close(), allow?.close(), require_?.close()]);
});

/** The answer to any input: no 5xx, JSON errors always carry a known code that is not INTERNAL_SERVER_ERROR, non-JSON is 4xx. */
function problemWith(r: HttpResult): string | undefined {
  if (r.network) return `no answer: ${r.network}`;
  if (r.status >= 500) return `HTTP ${r.status}: ${r.text?.slice(0, 300)}`;
  if (r.body === undefined) return r.status >= 400 && r.status < 500 ? undefined : `non-JSON ${r.status}: ${r.text?.slice(0, 200)}`;
  const errors = r.body?.errors;
  if (errors !== undefined && !Array.isArray(errors)) return `errors is not a list: ${r.text?.slice(0, 200)}`;
  for (const e of errors ?? []) {
    const code = e?.extensions?.code;
    if (!API_CODES.includes(code)) return `error without a known code (${code}): ${JSON.stringify(e).slice(0, 300)}`;
    if (code === 'INTERNAL_SERVER_ERROR') return `INTERNAL_SERVER_ERROR for bad input: ${JSON.stringify(e).slice(0, 300)}`;
    if (code === 'BAD_USER_INPUT' && !Array.isArray(e.extensions.validation)) return `BAD_USER_INPUT without validation: ${JSON.stringify(e).slice(0, 300)}`;
  }
  if (r.status >= 200 && r.status < 300 && errors === undefined && r.body?.data === undefined) return `2xx without data or errors: ${r.text?.slice(0, 200)}`;
  return undefined;
}

/** Every broken answer, grouped by target and problem (all cases run; each test fails if it saw any). */
const problems = new Map<string, { count: number; examples: string[] }>();
function report(target: string, problem: string, input: string): void {
  // One group per target and kind of problem (the message without its ids and values).
  const kind = `${target}: ${problem.replace(/"message":"[^"]*"/, '').replace(/[0-9a-f-]{36}/g, '<id>').slice(0, 160)}`;
  const entry = problems.get(kind) ?? { count: 0, examples: [] };
  entry.count += 1;
  if (entry.examples.length < 2) entry.examples.push(`${problem.slice(0, 300)} <- ${input.slice(0, 400)}`);
  problems.set(kind, entry);
}
function problemsSince(before: Set<string>): Record<string, { count: number; examples: string[] }> {
  return Object.fromEntries([...problems].filter(([kind]) => !before.has(kind)));
}

function record(target: string, r: HttpResult): void {
  // A code with its reason where the server gives one (BAD_USER_INPUT/TOO_MANY_FRAGMENTS).
  const codes = (r.body?.errors ?? []).map((e: any) => (e?.extensions?.reason ? `${e.extensions.code}/${e.extensions.reason}` : String(e?.extensions?.code)));
  const label = r.network ? `network:${r.network}` : `${r.status} ${[...new Set(codes)].sort().join('+') || (r.body?.data ? 'data' : 'other')}`;
  (outcomesByTarget[target] ??= []).push(label);
}

/** A raw answer (test/support/raw-http.ts) as this file's result, for `record` and `problemWith`. */
function fromRaw(answer: RawAnswer): HttpResult {
  const errors: any[] = Array.isArray(answer.json?.errors) ? answer.json.errors : [];
  return {
    status: answer.status,
    body: answer.json,
    text: answer.text,
    codes: errors.map((e) => (typeof e?.extensions?.code === 'string' ? e.extensions.code : '<none>')),
    messages: errors.map((e) => String(e?.message)),
    network: answer.network,
    startedAt: 0,
    endedAt: 0,
  };
}

/**
 * Records and checks an answer to one of issue #12's classes: besides `problemWith`, a 4xx must
 * be in the API's JSON error format (the envelope answers outside it were that issue's defects).
 */
function check(target: string, r: HttpResult, input: string): void {
  record(target, r);
  const problem = problemWith(r) ?? (r.status >= 400 && !Array.isArray(r.body?.errors) ? `HTTP ${r.status} outside the JSON error format: ${r.text?.slice(0, 200)}` : undefined);
  if (problem) report(target, problem, input);
}

/** The server still answers, after a class of hostile input (a `require` server: its trusted document). */
async function stillServing(server: TestServer): Promise<void> {
  if (server === require_) {
    const r = await request(server.url, { headers: bearer(admin), body: { documentId: DASHBOARD_ID, variables: { first: 1 } } });
    expect(r.body?.data?.sessions).toBeDefined();
    return;
  }
  const r = await server.gql('{ me { id } }', {}, { as: admin });
  expect(r.data?.me?.id).toBe(admin.id);
}

const bearer = (user: User | null): Record<string, string> => (user ? { authorization: `Bearer ${t.tokenFor(user)}` } : {});

async function post(target: string, body: unknown, headers: Record<string, string> = {}): Promise<void> {
  const r = await request(t.url, { headers: { 'content-type': 'application/json', ...headers }, body, timeoutMs: 20_000 });
  record(target, r);
  const problem = problemWith(r);
  if (problem) report(target, problem, JSON.stringify(body));
}

// ---- arbitraries -----------------------------------------------------------------------------

const nasty = fc.constantFrom(
  '', ' ', '\u0000', 'a\u0000b', '\uD800', '\uDFFF\uD800', '%', '_', "'", "'; DROP TABLE users; --", '\\', '$1', 'null', 'undefined',
  'NaN', '-0', '1e309', '😀'.repeat(100), 'x'.repeat(70_000), '\u202E\u0301', '<script>', '{"a":1}', '../../etc/passwd',
);
const str = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 3, arbitrary: nasty },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }).map((s) => s.repeat(150)) },
);
const uuid = fc.oneof(fc.uuid(), fc.uuid().map((u) => u.toUpperCase()), fc.uuid().map((u) => ` ${u} `), fc.uuid().map((u) => u.replace(/-/g, '')));
const anyId = () =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...ids.sessions, ...ids.otherSessions, ...ids.messages, ...ids.skills, ...ids.users) },
    { weight: 2, arbitrary: uuid },
    { weight: 2, arbitrary: str },
    { weight: 1, arbitrary: fc.integer().map(String) },
  );
const weird = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), str, fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }));
/** Mostly a value of the right GraphQL type (so the resolvers see it), sometimes anything at all. */
const typed = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 8, arbitrary: arb as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: weird });
const intish = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -5, max: 200 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 100, 101, 1000, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, -1, 1e308) },
  { weight: 1, arbitrary: fc.integer() },
);
/** A JWT signed by hand, so its claims may have any type (jsonwebtoken's sign() refuses odd ones). */
function signRaw(claims: object, secret: string, alg: string): string {
  const head = Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg] ?? 'sha256';
  return `${head}.${body}.${createHmac(hash, secret).update(`${head}.${body}`).digest('base64url')}`;
}
const b64 = (s: string) => Buffer.from(s).toString('base64');
const b64url = (s: string) => Buffer.from(s).toString('base64url');
const mutateString = (s: string) =>
  fc.tuple(fc.nat({ max: Math.max(0, s.length - 1) }), fc.nat({ max: 4 }), fc.string({ maxLength: 4 })).map(([at, del, ins]) => s.slice(0, at) + ins + s.slice(at + del));
const cursor = () =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...cursors) },
    { weight: 3, arbitrary: fc.constantFrom(...cursors).chain(mutateString) },
    { weight: 2, arbitrary: fc.jsonValue().map((v) => b64(JSON.stringify(v))) },
    { weight: 2, arbitrary: fc.jsonValue().map((v) => b64url(JSON.stringify(v))) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...cursors).chain((c) => {
        let decoded: unknown;
        try {
          decoded = JSON.parse(Buffer.from(c, 'base64url').toString());
        } catch {
          decoded = {};
        }
        const keys = decoded && typeof decoded === 'object' ? Object.keys(decoded as object) : ['v'];
        return fc.dictionary(fc.constantFrom(...keys, 'x'), fc.jsonValue(), { maxKeys: keys.length + 1 }).map((o) => b64url(JSON.stringify({ ...(decoded as object), ...o })));
      }),
    },
    { weight: 1, arbitrary: fc.base64String({ maxLength: 80 }) },
    { weight: 2, arbitrary: str },
    { weight: 1, arbitrary: weird },
  );
const filter = () =>
  typed(
    fc.record(
      {
        userId: typed(anyId()),
        isSyncing: typed(fc.boolean()),
        skillId: typed(anyId()),
        nodeId: typed(str),
        deleted: typed(fc.constantFrom('ACTIVE', 'DELETED', 'ALL', 'active', 'NONE')),
      },
      { requiredKeys: [] },
    ),
  );
const orderBy = typed(fc.constantFrom('CREATED_AT_DESC', 'CREATED_AT_ASC', 'UPDATED_AT_DESC', 'CREATED_AT_DESC', 'created_at_desc'));
const viewer = () => fc.constantFrom<User | null>(admin, member, other, null);

/** Every paginated list, with the orderings that make its cursors differ (test/support/hostile.ts forges them). */
interface CursorList {
  name: string;
  orders: string[];
  doc: string;
  edges(data: any): { cursor: string }[];
  id?(): string;
}
const PAGE_VARS = '$a: String, $b: String, $first: Int, $last: Int';
const PAGE_ARGS = 'after: $a, before: $b, first: $first, last: $last';
const CURSOR_LISTS: CursorList[] = [
  { name: 'sessions', orders: ['CREATED_AT_DESC', 'CREATED_AT_ASC', 'UPDATED_AT_DESC'], doc: `query (${PAGE_VARS}, $o: SessionOrder) { sessions(${PAGE_ARGS}, orderBy: $o) { edges { cursor } } }`, edges: (d) => d.sessions.edges },
  { name: 'messages', orders: ['CREATED_AT_ASC', 'CREATED_AT_DESC'], doc: `query (${PAGE_VARS}, $o: MessageOrder, $id: ID!) { session(id: $id) { messages(${PAGE_ARGS}, orderBy: $o) { edges { cursor } } } }`, edges: (d) => d.session.messages.edges, id: () => parents.session },
  { name: 'users', orders: [''], doc: `query (${PAGE_VARS}) { users(${PAGE_ARGS}) { edges { cursor } } }`, edges: (d) => d.users.edges },
  { name: 'skills', orders: [''], doc: `query (${PAGE_VARS}) { skills(${PAGE_ARGS}) { edges { cursor } } }`, edges: (d) => d.skills.edges },
  { name: 'userSessions', orders: [''], doc: `query (${PAGE_VARS}, $id: ID!) { user(id: $id) { sessions(${PAGE_ARGS}) { edges { cursor } } } }`, edges: (d) => d.user.sessions.edges, id: () => parents.user },
  { name: 'skillSessions', orders: [''], doc: `query (${PAGE_VARS}, $id: ID!) { skill(id: $id) { sessions(${PAGE_ARGS}) { edges { cursor } } } }`, edges: (d) => d.skill.sessions.edges, id: () => parents.skill },
];

// ---- properties ------------------------------------------------------------------------------

const READS = [
  { name: 'sessions', doc: `query($first: Int, $after: String, $filter: SessionFilter, $orderBy: SessionOrder) { sessions(first: $first, after: $after, filter: $filter, orderBy: $orderBy) { totalCount edges { cursor node { id title messageCount owner { id } skills { id } } } pageInfo { hasNextPage endCursor } } }` },
  { name: 'session', doc: `query($id: ID!, $first: Int, $after: String, $orderBy: MessageOrder) { session(id: $id) { id messageCount lastMessage { id } messages(first: $first, after: $after, orderBy: $orderBy) { totalCount edges { cursor node { id content audio { key url } } } pageInfo { hasNextPage } } nodeSync { nodeId status } } }` },
  { name: 'message', doc: `query($id: ID!) { message(id: $id) { id content role session { id title } } }` },
  { name: 'user', doc: `query($id: ID!, $first: Int, $after: String, $filter: SessionFilter) { user(id: $id) { id email sessionCount sessions(first: $first, after: $after, filter: $filter) { totalCount edges { cursor } } } }` },
  { name: 'users', doc: `query($first: Int, $after: String) { users(first: $first, after: $after) { totalCount edges { cursor node { id email sessionCount } } } }` },
  { name: 'skills', doc: `query($first: Int, $after: String, $id: ID!) { skills(first: $first, after: $after) { totalCount edges { cursor node { id sessionCount sessions(first: $first, after: $after) { totalCount } } } } skill(id: $id) { id name } }` },
];

test('real queries with random first/after/filter/orderBy/ids never give a 500 or a code outside the vocabulary', async () => {
  const seen = new Set(problems.keys());
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...READS),
      viewer(),
      fc.record({ first: fc.option(typed(intish), { nil: undefined }), after: fc.option(cursor(), { nil: undefined }), filter: fc.option(filter(), { nil: undefined }), orderBy: fc.option(orderBy, { nil: undefined }), id: anyId() }, { requiredKeys: ['id'] }),
      async (op, as, variables) => post(`query:${op.name}`, { query: op.doc, variables }, bearer(as)),
    ),
    {
      numRuns: 1500,
      // Found by this property once; always replayed so a regression cannot hide behind the seed.
      examples: [[READS[0], admin, { id: ids.sessions[0], filter: { nodeId: 'node\u0000a' } }]],
    },
  );
  expect(problemsSince(seen)).toEqual({});
});

const MUTATIONS: { name: string; doc: string; vars: () => fc.Arbitrary<Record<string, unknown>> }[] = [
  { name: 'createSession', doc: `mutation($input: CreateSessionInput!) { createSession(input: $input) { id } }`, vars: () => fc.record({ input: typed(fc.record({ title: str, ownerId: typed(anyId()), skillIds: typed(fc.array(anyId(), { maxLength: 120 })) })) }) },
  { name: 'updateSession', doc: `mutation($id: ID!, $input: UpdateSessionInput!) { updateSession(id: $id, input: $input) { id version } }`, vars: () => fc.record({ id: anyId(), input: typed(fc.record({ title: fc.oneof(str, fc.constant(null)), expectedVersion: intish })) }) },
  { name: 'deleteSession', doc: `mutation($id: ID!) { deleteSession(id: $id) { id } }`, vars: () => fc.record({ id: anyId() }) },
  { name: 'restoreSession', doc: `mutation($id: ID!) { restoreSession(id: $id) { id } }`, vars: () => fc.record({ id: anyId() }) },
  { name: 'purgeSession', doc: `mutation($id: ID!) { purgeSession(id: $id) }`, vars: () => fc.record({ id: fc.oneof(uuid, str) }) },
  {
    name: 'postMessage',
    doc: `mutation($input: PostMessageInput!) { postMessage(input: $input) { id audio { key url } } }`,
    vars: () =>
      fc.record({
        input: fc.oneof(
          fc.record(
            {
              sessionId: typed(anyId()),
              role: typed(fc.constantFrom('USER', 'ASSISTANT', 'SYSTEM', 'TOOL', 'user', 'ROBOT')),
              content: typed(fc.oneof(str, fc.constant('y'.repeat(32_001)))),
              audio: fc.option(
                typed(fc.record({ key: fc.oneof(str, fc.constantFrom('audio/2026/11/a.ogg', '/abs/x.ogg', 'a/../b.ogg', 'http://x/y.ogg', 'UPPER/x.ogg')), contentType: fc.oneof(str, fc.constantFrom('audio/ogg', 'video/mp4', 'audio/')), byteSize: intish })),
                { nil: undefined, freq: 2 },
              ),
            },
          ),
        ),
      }),
  },
  {
    name: 'createAudioUpload',
    doc: `mutation($input: CreateAudioUploadInput!) { createAudioUpload(input: $input) { key uploadUrl headers { name value } expiresAt } }`,
    vars: () =>
      fc.record({
        input: typed(
          fc.record({
            sessionId: typed(anyId()),
            contentType: typed(fc.oneof(str, fc.constantFrom('audio/ogg', 'audio/ogg; codecs=opus', 'video/mp4', 'audio/', 'AUDIO/MPEG'))),
            byteSize: intish,
          }),
        ),
      }),
  },
  { name: 'deleteMessage', doc: `mutation($id: ID!) { deleteMessage(id: $id) { id } }`, vars: () => fc.record({ id: anyId() }) },
  { name: 'createSkill', doc: `mutation($input: CreateSkillInput!) { createSkill(input: $input) { id } }`, vars: () => fc.record({ input: typed(fc.record({ name: str, description: fc.oneof(str, fc.constant(null)) })) }) },
  { name: 'deleteSkill', doc: `mutation($id: ID!) { deleteSkill(id: $id) }`, vars: () => fc.record({ id: fc.oneof(uuid, str) }) },
  { name: 'attachSkills', doc: `mutation($s: ID!, $k: [ID!]!) { attachSkills(sessionId: $s, skillIds: $k) { id skills { id } } }`, vars: () => fc.record({ s: anyId(), k: typed(fc.array(anyId(), { maxLength: 110 })) }) },
  { name: 'detachSkills', doc: `mutation($s: ID!, $k: [ID!]!) { detachSkills(sessionId: $s, skillIds: $k) { id } }`, vars: () => fc.record({ s: anyId(), k: typed(fc.array(anyId(), { maxLength: 110 })) }) },
  {
    name: 'reportNodeSync',
    doc: `mutation($input: ReportNodeSyncInput!) { reportNodeSync(input: $input) { id isSyncing } }`,
    vars: () => fc.record({ input: typed(fc.record({ sessionId: anyId(), nodeId: fc.oneof(str, fc.constant('n'.repeat(129))), status: typed(fc.constantFrom('PENDING', 'SYNCING', 'SYNCED', 'FAILED', 'DONE')), error: typed(str) })) }),
  },
  { name: 'createUser', doc: `mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`, vars: () => fc.record({ input: typed(fc.record({ email: fc.oneof(str, fc.emailAddress()), displayName: str, role: typed(fc.constantFrom('ADMIN', 'MEMBER', 'ROOT')) })) }) },
  // Random ids only: the fixture users must survive.
  { name: 'deleteUsers', doc: `mutation($ids: [ID!]!) { deleteUsers(ids: $ids) { deletedCount } }`, vars: () => fc.record({ ids: typed(fc.array(fc.oneof(uuid, str), { maxLength: 120 })) }) },
];

test('mutations with random inputs never give a 500 or a code outside the vocabulary', async () => {
  const seen = new Set(problems.keys());
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...MUTATIONS).chain((m) => fc.tuple(fc.constant(m), m.vars(), fc.constantFrom<User | null>(admin, member, member, other, null))),
      async ([m, variables, as]) => post(`mutation:${m.name}`, { query: m.doc, variables }, bearer(as)),
    ),
    {
      numRuns: 1400,
      // Found by this property once; always replayed so a regression cannot hide behind the seed.
      examples: [[[MUTATIONS.find((m) => m.name === 'createUser')!, { input: { email: '\udfff\ud800', displayName: 'x', role: 'MEMBER' } }, admin]]],
    },
  );
  expect(problemsSince(seen)).toEqual({});
});

const VALID_DOCS = [...READS.map((r) => r.doc), ...MUTATIONS.map((m) => m.doc), '{ me { id email role sessions(first: 2) { nodes { id } } } }', 'query A { me { id } } query B { skills { totalCount } }', 'fragment F on Session { id title } { sessions(first: 3) { nodes { ...F } } }'];
const TOKENS = ['{', '}', '(', ')', '[', ']', ':', '!', '$x', '$first', '=', '...', '@include(if: true)', '@skip(if: $x)', '@deprecated', 'query', 'mutation', 'subscription', 'fragment', 'on', 'Session', 'sessions', 'session', 'me', 'id', 'first:', 'after:', '100000', '-1', '1e999', '"s"', '"""block"""', '#c\n', 'null', 'true', '__typename', '__schema { types { name } }', '__type(name: "Session") { fields { name } }', 'edges', 'node', 'nodes', ',', 'a: me { id }', '\u0000', '\uFEFF'];

test('random and mutated GraphQL documents never give a 500 or a code outside the vocabulary', async () => {
  const doc = fc.oneof(
    { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 4, arbitrary: fc.constantFrom(...VALID_DOCS).chain((d) => fc.array(fc.tuple(fc.nat({ max: d.length }), fc.nat({ max: 8 }), fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 3 }))), { minLength: 1, maxLength: 4 }).map((edits) => edits.reduce((acc, [at, del, ins]) => acc.slice(0, at) + ins + acc.slice(at + del), d))) },
    { weight: 3, arbitrary: fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 40 }).map((parts) => parts.join(' ')) },
    { weight: 1, arbitrary: fc.nat({ max: 40 }).map((n) => `${'{ sessions(first: 100) { nodes { messages(first: 100) { nodes { session '.repeat(n)}${'}'.repeat(n * 4)}`) },
    { weight: 1, arbitrary: fc.nat({ max: 60 }).map((n) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }`) },
  );
  const seen = new Set(problems.keys());
  await fc.assert(
    fc.asyncProperty(doc, fc.option(fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), weird, { maxKeys: 4 }), weird), { nil: undefined }), fc.option(fc.oneof(str, weird), { nil: undefined }), viewer(), async (query, variables, operationName, as) =>
      post('document', { query, variables, operationName }, bearer(as)),
    ),
    { numRuns: 1000 },
  );
  expect(problemsSince(seen)).toEqual({});
});

test('random JSON bodies, content types and raw bytes never give a 500 (body-parser and CSRF answers are 4xx)', async () => {
  const body = fc.oneof(
    { weight: 3, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 3, arbitrary: fc.record({ query: fc.oneof(fc.constantFrom(...VALID_DOCS), weird), variables: fc.oneof(fc.jsonValue(), weird), operationName: weird, extensions: fc.oneof(fc.jsonValue(), fc.constant({ persistedQuery: { version: 1, sha256Hash: 'abc' } })) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.array(fc.record({ query: fc.constantFrom(...VALID_DOCS) }), { maxLength: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', '{"query":', 'null', '"str"', '[]', '{"query":"{ me { id } }"', `{"query":"${'x'.repeat(300_000)}"}`, '\u0000\u0001', '{"__proto__":{"query":"{ me { id } }"}}') },
  );
  const contentType = fc.oneof(
    { weight: 5, arbitrary: fc.constant('application/json') },
    { weight: 2, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/graphql', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'APPLICATION/JSON', '') },
    { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 }) },
  );
  const seen = new Set(problems.keys());
  await fc.assert(
    fc.asyncProperty(body, contentType, fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH'), viewer(), async (raw, type, method, as) => {
      const headers: Record<string, string> = { ...bearer(as) };
      if (type) headers['content-type'] = type;
      const url = method === 'GET' ? `${t.url}?query=${encodeURIComponent(raw.slice(0, 2000))}` : t.url;
      const r = await request(url, { method, headers: method === 'GET' ? { ...headers, 'apollo-require-preflight': 'true' } : headers, body: method === 'GET' ? undefined : raw, timeoutMs: 20_000 });
      record(`body:${method === 'GET' ? 'GET' : 'POST-like'}`, r);
      const problem = problemWith(r);
      if (problem) report(`body:${method}`, problem, `${method} ${type}: ${raw}`);
    }),
    { numRuns: 800 },
  );
  expect(problemsSince(seen)).toEqual({});
});

test('random Authorization and other headers never give a 500: a bad token is UNAUTHENTICATED', async () => {
  const printable = (max: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: max });
  const claims = fc.record(
    {
      sub: fc.oneof(fc.uuid(), fc.constantFrom(admin.id, member.id, other.id), printable(40), fc.integer(), fc.constant(null), fc.constant(['x'])),
      exp: fc.oneof(fc.integer({ min: 0, max: 4_000_000_000 }), fc.constant(Math.floor(Date.now() / 1000) - 3600), printable(5), fc.double()),
      nbf: fc.oneof(fc.constant(Math.floor(Date.now() / 1000) + 3600), fc.integer()),
      iat: fc.integer(),
    },
    { requiredKeys: [] },
  );
  const token = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(claims, fc.constantFrom(TEST_SECRET, 'wrong-secret', TEST_SECRET), fc.constantFrom('HS256', 'HS256', 'HS512', 'HS384')).map(([c, secret, alg]) => signRaw(c, secret, alg)) },
    { weight: 1, arbitrary: claims.map((c) => `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(JSON.stringify(c))}.`) },
    { weight: 1, arbitrary: fc.constantFrom(t.tokenFor(admin), t.tokenFor(member)).chain(mutateString) },
    { weight: 1, arbitrary: printable(200) },
  );
  const authorization = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom('Bearer ', 'bearer ', 'BEARER  ', 'Bearer', 'Basic ', 'Token ', ''), token, fc.constantFrom('', ' ', ' x')).map(([p, tk, s]) => `${p}${tk}${s}`) },
    { weight: 1, arbitrary: printable(300) },
    { weight: 1, arbitrary: fc.constantFrom(`Bearer ${'a'.repeat(20_000)}`, `Bearer ${'a'.repeat(2_000)}`, 'Bearer a.b.c', 'Bearer ', 'Bearer null', 'Bearer undefined') },
  );
  const seen = new Set(problems.keys());
  await fc.assert(
    fc.asyncProperty(authorization, fc.option(printable(200), { nil: undefined }), fc.option(printable(60), { nil: undefined }), async (auth, requestId, accept) => {
      const headers: Record<string, string> = { 'content-type': 'application/json', authorization: auth };
      if (requestId !== undefined) headers['x-request-id'] = requestId;
      if (accept !== undefined) headers.accept = accept;
      const r = await request(t.url, { headers, body: { query: '{ me { id } }' }, timeoutMs: 20_000 });
      record('authorization', r);
      const problem = problemWith(r);
      if (problem) return report('authorization', problem, `authorization: ${auth}`);
      // Either the viewer, or UNAUTHENTICATED with 401 (a token the server signed is the only way in).
      if (r.status === 200 && r.codes.length === 0) expect(r.body.data.me?.id).toBeDefined();
      // A token it did not sign is UNAUTHENTICATED; an unacceptable `accept` is a 406 BAD_USER_INPUT;
      // a header block over Node's limit is a JSON 431 BAD_USER_INPUT before the app.
      else if (r.body !== undefined) {
        const allowed = accept !== undefined || r.status === 431 ? ['UNAUTHENTICATED', 'BAD_USER_INPUT'] : ['UNAUTHENTICATED'];
        expect(r.codes.filter((c) => !allowed.includes(c))).toEqual([]);
      }
    }),
    { numRuns: 800 },
  );
  expect(problemsSince(seen)).toEqual({});
});

// ---- issue #12's classes -----------------------------------------------------------------------

const postTo = (server: TestServer, body: unknown, as: User | null = member, timeoutMs = 30_000) => request(server.url, { headers: bearer(as), body, timeoutMs });

test('fragment graphs (chains, trees, cycles, unknown fragments, spreads in inline fragments, past the limits) are data or a coded 4xx', async () => {
  const seen = new Set(problems.keys());
  await fc.assert(
    fc.asyncProperty(fragmentGraph, fc.constantFrom('roomy', 'roomy', 't'), async (graph, which) => {
      const query = printFragmentGraph(graph);
      const shape = `${graph.cycles ? 'cycles' : 'forward'}${graph.unknown ? '+unknown' : ''}${graph.mismatched ? '+mismatched' : ''}`;
      check(`fragments:${shape}`, await postTo(which === 't' ? t : roomy, { query }), query);
    }),
    { numRuns: 250 },
  );
  // The limits themselves, and one past each: 100 fragments, 5,000 selections once expanded.
  // (Nested spreads count towards the depth limit too, so the limits are reached side by side.)
  // Fragments that differ (by their spacing: the text tells repeats apart), or repeat one another.
  const flat = (count: number, fields: number, repeated = false) =>
    [
      `{ me { ${Array.from({ length: count }, (_, i) => `...F${i}`).join(' ')} } }`,
      ...Array.from({ length: count }, (_, i) => `fragment F${i} on User {${repeated ? ' ' : ' '.repeat(i + 1)}${'id '.repeat(fields)}}`),
    ].join('\n');
  // 4,900 selections pass the size check; the overlap pre-check (issue #21.6: graphql-js would
  // spend about a second comparing them) refuses them before validation, coded. Repeats of one
  // fragment are compared once (src/http/validate-document.ts): 1,128 comparisons, data.
  const limits: [string, string | undefined][] = [
    [flat(100, 1), 'data'],
    [flat(101, 1), 'TOO_MANY_FRAGMENTS'],
    [flat(100, 48), 'TOO_MANY_OVERLAPPING_FIELDS'],
    [flat(100, 48, true), 'data'],
    [flat(100, 49), 'TOO_MANY_SELECTIONS'],
    [fragmentChain(13, 2, 'User'), 'TOO_MANY_SELECTIONS'],
    [fragmentChain(2000, 2, 'Session'), 'TOO_MANY_FRAGMENTS'],
  ];
  for (const [query, expected] of limits) {
    const r = await postTo(roomy, { query });
    check('fragments:limits', r, query);
    const reason = r.body?.errors?.[0]?.extensions?.reason;
    if (expected === 'data') expect(r.body?.errors).toBeUndefined();
    else expect(reason).toBe(expected);
  }
  expect(problemsSince(seen)).toEqual({});
  await Promise.all([stillServing(t), stillServing(roomy)]);
}, 300_000);

test('token bombs (fields, aliases, directives, arguments, long lists, big strings, nesting) are refused for tokens exactly past the limit, else data or a coded 4xx', async () => {
  // By name in the generated values (see the documentId property: no server object in a counterexample).
  const servers: Record<string, TestServer> = { default: t, roomy };
  const seen = new Set(problems.keys());
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('default', 'roomy').chain((name) => fc.tuple(fc.constant(name), tokenBomb(servers[name].config.maxQueryTokens))), async ([name, bomb]) => {
      const server = servers[name];
      const limit = server.config.maxQueryTokens;
      const r = await postTo(server, { query: bomb.query });
      check(`tokens:${bomb.shape}`, r, bomb.query);
      if (r.status === 413) return; // over the body limit: never parsed
      // graphql-js with the same limit is the oracle: the server refuses for tokens exactly when it stops.
      // Where the oracle's own stack overflows (a nesting past some thousands), the bomb's grammar is
      // valid throughout, so the parse would stop exactly when its tokens pass the limit.
      let over = false;
      try {
        parse(bomb.query, { maxTokens: limit });
      } catch (error) {
        over = error instanceof RangeError ? tokensOf(bomb.query) > limit : /tokens/.test(String(error));
      }
      const refusedForTokens = r.status === 400 && r.messages.some((m) => /more tha[nt] \d+ tokens/.test(m));
      expect({ shape: bomb.shape, n: bomb.n, refusedForTokens }).toEqual({ shape: bomb.shape, n: bomb.n, refusedForTokens: over });
    }),
    { numRuns: 200 },
  );
  expect(problemsSince(seen)).toEqual({});
  await Promise.all([stillServing(t), stillServing(roomy)]);
}, 300_000);

test('cost-bypass documents (variables with defaults, connections under inline and named fragments, nested connections) answer within their estimate or a coded 4xx', async () => {
  const seen = new Set(problems.keys());
  await fc.assert(
    fc.asyncProperty(roots, fc.constantFrom(...ids.sessions), fc.constantFrom(admin, member), async (list, sessionId, as) => {
      const { query, variables } = printDocument(list, sessionId);
      const r = await postTo(t, { query, variables }, as);
      check('cost:generated', r, `${query} ${JSON.stringify(variables)}`);
      if (r.status === 200 && r.codes.length === 0) {
        const cost = Number(r.headers?.get('x-query-cost'));
        expect(cost).toBeLessThanOrEqual(t.config.maxQueryCost);
        expect(Object.values(r.body.data).reduce((sum: number, v) => sum + objectsIn(v), 0)).toBeLessThanOrEqual(cost);
      }
    }),
    { numRuns: 150 },
  );
  expect(problemsSince(seen)).toEqual({});
}, 300_000);

test('content encodings (gzip, deflate, br: valid, truncated, stacked, bombs; unknown ones) are data or a coded 4xx in JSON', async () => {
  const bodies = ['{ me { id } }', 'query ($f: Int) { sessions(first: $f) { totalCount } }'].map((query) => Buffer.from(JSON.stringify({ query, variables: { f: 2 } })));
  const seen = new Set(problems.keys());
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...bodies).chain(encodedBody), async ({ encoding, bytes }) => {
      const r = fromRaw(await rawRequest(t.url, { headers: { 'content-type': 'application/json', 'content-encoding': encoding, ...bearer(member) }, body: bytes }));
      check(`encoding:${encoding.toLowerCase().trim() || 'empty'}`, r, `${encoding}: ${bytes.length} bytes`);
    }),
    { numRuns: 200 },
  );
  expect(problemsSince(seen)).toEqual({});
  await stillServing(t);
}, 300_000);

test('headers: over-long, many, and odd bytes in authorization, x-request-id, x-hub-lsn and content-type are data or a coded 4xx in JSON', async () => {
  const token = t.tokenFor(member);
  const valid: Record<string, string> = { authorization: `Bearer ${token}`, 'x-request-id': 'req-1234', 'x-hub-lsn': '16/B374D848', 'content-type': 'application/json' };
  const body = JSON.stringify({ query: '{ me { id } }' });
  const seen = new Set(problems.keys());
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        headerBomb.map((headers) => ({ kind: 'bomb', headers: Object.entries(headers) as [string, Buffer | string][] })),
        fc.constantFrom(...Object.keys(valid)).chain((name) =>
          fc.tuple(oddHeaderValue(valid[name]), fc.boolean()).map(([value, twice]) => ({
            kind: name,
            // The odd value instead of the good one, or as a second line of the same header.
            headers: [...Object.entries(valid).filter(([n]) => n !== name || twice), [name, value]] as [string, Buffer | string][],
          })),
        ),
      ),
      async ({ kind, headers }) => {
        const all = kind === 'bomb' ? [...(Object.entries(valid) as [string, string][]), ...headers] : headers;
        const answer = await rawSocketRequest(t.url, { headers: all, body });
        const r = fromRaw(answer);
        check(`headers:${kind}`, r, `${kind}: ${headers.map(([n, v]) => `${n}=${Buffer.from(v).toString('hex').slice(0, 80)}`).join(' ').slice(0, 300)}`);
        // A request id is echoed only when it is a sane token: odd bytes never come back.
        if (answer.headers['x-request-id'] !== undefined) expect(String(answer.headers['x-request-id'])).toMatch(/^[\w.:-]{1,128}$/);
      },
    ),
    { numRuns: 300 },
  );
  // x-hub-lsn is read only with read replicas; its parser answers any text with an LSN or nothing.
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 40n }), fc.bigInt({ min: 0n, max: 2n ** 40n })).map(([a, b]) => `${a.toString(16)}/${b.toString(16)}`)), (text) => {
      const lsn = parseLsn(text);
      expect(lsn === undefined || (lsn >= 0n && lsn < 2n ** 64n)).toBe(true);
    }),
    { numRuns: 500 },
  );
  expect(problemsSince(seen)).toEqual({});
  await stillServing(t);
}, 300_000);

test('documentId requests (POST and GET; malformed, unknown, wrong prefix or length, with and without text) are data or a coded 4xx in every trusted-documents mode', async () => {
  // Generated values name the mode only: a server object in a counterexample is a graph fast-check
  // would stringify to gigabytes (a failure here once took the test process to its heap limit).
  const servers: Record<string, TestServer> = { off: t, allow, require: require_ };
  const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');
  const query = fc.option(fc.constantFrom('{ me { id } }', DASHBOARD_TEXT, '', '{ me { id ', 'subscription { sessionChanged { kind } }'), { nil: undefined });
  const seen = new Set(problems.keys());
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('off', 'allow', 'require'),
      fc.option(documentId(DASHBOARD_ID), { nil: undefined, freq: 6 }),
      query,
      fc.option(fc.oneof(fc.constantFrom(DASHBOARD_TEXT, '{ me { id } }').map((text) => ({ persistedQuery: { version: 1, sha256Hash: hashOf(text) } })), fc.jsonValue()), { nil: undefined, freq: 3 }),
      fc.option(fc.oneof(fc.constant({ first: 2 }), fc.constant({ first: 'x' }), fc.constant({ first: 1000 }), weird), { nil: undefined }),
      fc.constantFrom('POST', 'GET'),
      viewer(),
      async (mode, id, text, extensions, variables, method, as) => {
        const server = servers[mode];
        const body: Record<string, unknown> = { documentId: id, query: text, extensions, variables };
        const present = Object.entries(body).filter(([, v]) => v !== undefined);
        const r =
          method === 'POST'
            ? await request(server.url, { headers: bearer(as), body: Object.fromEntries(present) })
            : await request(`${server.url}?${new URLSearchParams(present.map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]))}`, { method: 'GET', headers: { ...bearer(as), 'apollo-require-preflight': 'true' } });
        check(`documentId:${mode}:${method}`, r, `${method} ${JSON.stringify(body)}`);
        // `require` runs the manifest's documents alone (other extensions than an APQ hash, such as
        // `{}`, carry no text and change nothing); `off` runs no documentId.
        const apq = typeof extensions === 'object' && extensions !== null && 'persistedQuery' in extensions;
        if (r.body?.data && mode === 'require') expect({ id, text, apq }).toEqual({ id: DASHBOARD_ID, text: undefined, apq: false });
        if (r.body?.data && mode === 'off') expect(id === undefined || id === null).toBe(true);
      },
    ),
    { numRuns: 400 },
  );
  expect(problemsSince(seen)).toEqual({});
  await Promise.all([stillServing(t), stillServing(allow), stillServing(require_)]);
}, 300_000);

test('forged cursors (every component of every cursor kind, other lists\' cursors, broken encodings) are data or BAD_USER_INPUT, never a statement', async () => {
  const keys = Object.keys(cursorsByList);
  const all = Object.values(cursorsByList).flat();
  const components: Record<string, number> = {};
  const seen = new Set(problems.keys());
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...keys).chain((key) => fc.tuple(fc.constant(key), fc.constantFrom(...cursorsByList[key]).chain((real) => forgedCursor(real, all.filter((c) => !cursorsByList[key].includes(c)))))),
      fc.constantFrom('a', 'b'),
      fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
      fc.boolean(),
      async ([key, forged], arg, size, backward) => {
        const [name, order] = key.split(' ');
        const list = CURSOR_LISTS.find((l) => l.name === name)!;
        const variables = { [arg]: forged.cursor, [backward ? 'last' : 'first']: size, o: order || undefined, id: list.id?.() };
        const r = await postTo(t, { query: list.doc, variables }, admin);
        components[forged.component] = (components[forged.component] ?? 0) + 1;
        check(`cursors:${name}:${forged.component}`, r, JSON.stringify(variables));
        // A cursor we could not have issued is refused at the edge; one we did runs.
        if (forged.valid === false) expect(r.codes).toContain('BAD_USER_INPUT');
        if (forged.valid === true) expect(r.codes).toEqual([]);
      },
    ),
    { numRuns: 700 },
  );
  figures.cursorComponents = components;
  expect(problemsSince(seen)).toEqual({});
  await stillServing(t);
}, 300_000);

test('after the fuzzing the server still serves and the database is consistent', async () => {
  const health = await request(t.url.replace('/graphql', '/healthz'));
  expect(health.status).toBe(200);
  const r = await t.gql('{ me { id } sessions(first: 1) { totalCount } }', {}, { as: admin });
  expect(r.errors).toBeUndefined();
  expect(r.data.me.id).toBe(admin.id);
  expect(await findViolations(t.dataSource)).toEqual({});
});
