/**
 * Writers and readers racing on shared rows (issue #22, items 1 and 3). fast-check generates
 * schedules of concurrent operations over one small world of users (members and deletable
 * admins), sessions, messages and skills: every mutation of the schema, and the reads that
 * follow a row's parent (`session.owner`, `message.session.owner`, `node(id) … owner`), each
 * made by an actor that a concurrent `deleteUsers` may remove, on a session, owner or skill that
 * a concurrent `deleteUsers`, `purgeSession` or `deleteSkill` may remove. Each schedule is sent
 * at once through the real HTTP app (in this process with a 20-connection pool, and the built
 * server with `--workers 2`), so the transactions really overlap in PostgreSQL.
 *
 * The pass mark: no 5xx and no INTERNAL_SERVER_ERROR, only the codes a lost race may give
 * (NOT_FOUND: the row went away; CONFLICT: the state moved on; UNAUTHENTICATED: the caller was
 * deleted), every invariant of test/invariants.ts after each schedule, and every successful
 * mutation's answer describes its own write (README, Consistency): a `reportNodeSync` lists the
 * row it stored and an `isSyncing` that agrees with its own `nodeSync`; `attachSkills`,
 * `detachSkills` and `createSession` list exactly the links they left; and so on (`problem`).
 * Fields the rule reads after the commit (a `nodeSync` the write did not change) are not checked.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { signToken } from '../../src/auth/tokens';
import { retriedWrites } from '../../src/db/write-transaction';
import { User } from '../../src/users/user.entity';
import { TEST_SECRET, testDatabaseUrl } from '../harness';
import { findViolations } from '../invariants';
import { builtServerExists, ChildServer, startChildServer, tempDir } from '../support/child-server';
import { tally, writeFigures } from './support/figures';
import { gql, HttpResult } from './support/http';
import { InProcessServer, startInProcess } from './support/in-process';

const SESSION = 'id title deletedAt updatedAt version isSyncing owner { id } skills { id } nodeSync { nodeId status }';
const MESSAGE = `id content status usage { inputTokens outputTokens model } createdAt deletedAt session { ${SESSION} }`;
const DOCS = {
  createUser: `mutation($input: CreateUserInput!) { createUser(input: $input) { id email } }`,
  deleteUsers: `mutation($ids: [ID!]!) { deleteUsers(ids: $ids) { deletedCount } }`,
  createSession: `mutation($input: CreateSessionInput!) { createSession(input: $input) { ${SESSION} } }`,
  updateSession: `mutation($id: ID!, $input: UpdateSessionInput!) { updateSession(id: $id, input: $input) { ${SESSION} } }`,
  deleteSession: `mutation($id: ID!) { deleteSession(id: $id) { ${SESSION} messageCount } }`,
  restoreSession: `mutation($id: ID!) { restoreSession(id: $id) { ${SESSION} messageCount } }`,
  purgeSession: `mutation($id: ID!) { purgeSession(id: $id) }`,
  postMessage: `mutation($input: PostMessageInput!) { postMessage(input: $input) { ${MESSAGE} } }`,
  createAudioUpload: `mutation($input: CreateAudioUploadInput!) { createAudioUpload(input: $input) { key uploadUrl expiresAt } }`,
  deleteMessage: `mutation($id: ID!) { deleteMessage(id: $id) { ${MESSAGE} } }`,
  appendMessageContent: `mutation($id: ID!, $delta: String!, $offset: Int!) { appendMessageContent(id: $id, delta: $delta, offset: $offset) { ${MESSAGE} } }`,
  finishMessage: `mutation($id: ID!, $status: MessageStatus!, $usage: TokenUsageInput) { finishMessage(id: $id, status: $status, usage: $usage) { ${MESSAGE} } }`,
  createSkill: `mutation($input: CreateSkillInput!) { createSkill(input: $input) { id name } }`,
  deleteSkill: `mutation($id: ID!) { deleteSkill(id: $id) }`,
  attachSkills: `mutation($s: ID!, $k: [ID!]!) { attachSkills(sessionId: $s, skillIds: $k) { ${SESSION} } }`,
  detachSkills: `mutation($s: ID!, $k: [ID!]!) { detachSkills(sessionId: $s, skillIds: $k) { ${SESSION} } }`,
  reportNodeSync: `mutation($input: ReportNodeSyncInput!) { reportNodeSync(input: $input) { ${SESSION} } }`,
  readSession: `query($id: ID!) { session(id: $id) { id owner { id email } skills { id } } }`,
  readMessage: `query($id: ID!) { message(id: $id) { id session { id owner { id email } } } }`,
  readNode: `query($id: ID!) { node(id: $id) { id ... on Session { owner { id } } ... on Message { session { owner { id } } } } }`,
};
type Kind = keyof typeof DOCS;
const KINDS = Object.keys(DOCS) as Kind[];
/** The answers test: random mutations against the writes that remove or change what answers show. */
const ANSWER_KINDS: Kind[] = ['createSession', 'updateSession', 'postMessage', 'deleteMessage', 'appendMessageContent', 'finishMessage', 'attachSkills', 'detachSkills', 'reportNodeSync', 'deleteSession', 'restoreSession', 'purgeSession', 'deleteSkill'];
const ANSWER_WEIGHTS: Partial<Record<Kind, number>> = { purgeSession: 2, deleteSkill: 2, reportNodeSync: 4, attachSkills: 3 };

/** What a lost race may answer: the row went away (NOT_FOUND), the state moved on (CONFLICT), the caller was deleted. */
const RACE_CODES = new Set(['NOT_FOUND', 'CONFLICT', 'UNAUTHENTICATED']);
const ACTIVE = new Set(['PENDING', 'SYNCING']);
const MEMBERS = 3;
const ADMINS = 2;
const SESSIONS_PER_USER = 2;
const MESSAGES_PER_SESSION = 2;
const SKILLS = 3;
/** Wall-clock budget for each test's generated schedules (the suite's time bound). */
const BUDGET_MS = Number(process.env.HUB_RACE_BUDGET_MS ?? 40_000);

interface World {
  /** Never deleted: the admin who deletes users, purges sessions and deletes skills when no deletable admin is drawn. */
  root: User;
  admins: User[];
  members: User[];
  sessions: { id: string; owner: User }[];
  messages: { id: string; sessionId: string }[];
  skills: string[];
}

interface Op {
  kind: Kind;
  target: number;
  others: number[];
  /** 0: the session's owner, 1: a deletable admin, 2: the root admin. */
  actor: number;
  status: number;
  delayMs: number;
}

const opArb = (kinds: fc.Arbitrary<Kind>, targets: number): fc.Arbitrary<Op> =>
  fc.record({
    kind: kinds,
    target: fc.nat({ max: targets - 1 }),
    others: fc.array(fc.nat({ max: 99 }), { minLength: 1, maxLength: 3 }),
    actor: fc.nat({ max: 2 }),
    status: fc.nat({ max: 3 }),
    // Deletions land while the others are mid-request (the adversary's 30–90 ms, scaled to a small world).
    delayMs: fc.nat({ max: 30 }),
  });

type Send = (doc: string, variables: Record<string, unknown>, as: User) => Promise<HttpResult>;
interface Figures {
  schedules: number;
  operations: number;
  outcomes: Record<string, number>;
  byKind: Record<string, Record<string, number>>;
  problems: Record<string, number>;
  seconds?: number;
}
const newFigures = (): Figures => ({ schedules: 0, operations: 0, outcomes: {}, byKind: {}, problems: {} });

let s: InProcessServer;
let child: ChildServer | undefined;
const all: Record<string, unknown> = {};

beforeAll(async () => {
  s = await startInProcess({ poolSize: 20 });
});
afterAll(async () => {
  writeFigures('races', all);
  await child?.stop();
  await s?.close();
});

/** The world of one schedule, written set-based (a statement per table), so the budget goes to the races. */
async function buildWorld(): Promise<World> {
  const q = (sql: string, params: unknown[]) => s.dataSource.query(sql, params);
  const user = (role: string) => ({ id: randomUUID(), role }) as User;
  const world: World = { root: user('ADMIN'), admins: [], members: [], sessions: [], messages: [], skills: [] };
  for (let a = 0; a < ADMINS; a += 1) world.admins.push(user('ADMIN'));
  for (let u = 0; u < MEMBERS; u += 1) world.members.push(user('MEMBER'));
  for (let k = 0; k < SKILLS; k += 1) world.skills.push(randomUUID());
  for (const owner of world.members) {
    for (let i = 0; i < SESSIONS_PER_USER; i += 1) {
      const session = { id: randomUUID(), owner };
      world.sessions.push(session);
      for (let m = 0; m < MESSAGES_PER_SESSION; m += 1) world.messages.push({ id: randomUUID(), sessionId: session.id });
    }
  }
  const users = [world.root, ...world.admins, ...world.members];
  await q(
    `INSERT INTO users (id, email, display_name, role) SELECT id, 'race-' || id || '@test.hub', 'Race user', role::user_role FROM unnest($1::uuid[], $2::text[]) AS u(id, role)`,
    [users.map((u) => u.id), users.map((u) => u.role)],
  );
  await q(`INSERT INTO skills (id, name, description) SELECT id, 'race-' || id, 'A race skill' FROM unnest($1::uuid[]) AS id`, [world.skills]);
  await q(
    `INSERT INTO sessions (id, user_id, title, is_syncing, created_at, updated_at)
     SELECT id, user_id, 'Race session', true, now() - interval '1 minute', now() - interval '1 minute' FROM unnest($1::uuid[], $2::uuid[]) AS s(id, user_id)`,
    [world.sessions.map((x) => x.id), world.sessions.map((x) => x.owner.id)],
  );
  await q(
    // Every other message is still being written (a streamed reply), for appendMessageContent and finishMessage.
    `INSERT INTO messages (id, session_id, role, content, status, created_at)
     SELECT id, session_id, 'USER', 'Hello', CASE WHEN n % 2 = 1 THEN 'STREAMING' ELSE 'COMPLETE' END::message_status,
            now() - interval '30 seconds' + n * interval '1 millisecond'
     FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS m(id, session_id, n)`,
    [world.messages.map((m) => m.id), world.messages.map((m) => m.sessionId)],
  );
  await q(`INSERT INTO session_skills (session_id, skill_id) SELECT s, k FROM unnest($1::uuid[]) AS s, unnest($2::uuid[]) AS k`, [world.sessions.map((x) => x.id), world.skills]);
  await q(`INSERT INTO session_node_sync (session_id, node_id, status) SELECT s, 'node-a', 'SYNCING' FROM unnest($1::uuid[]) AS s`, [world.sessions.map((x) => x.id)]);
  return world;
}

function request(world: World, op: Op): { as: User; variables: Record<string, unknown> } {
  const session = world.sessions[op.target % world.sessions.length];
  const admin = op.actor === 2 ? world.root : world.admins[op.target % world.admins.length];
  const as = op.actor === 0 ? session.owner : admin;
  const skills = op.others.map((i) => world.skills[i % world.skills.length]);
  const message = world.messages[op.target % world.messages.length];
  const messageActor = op.actor === 0 ? world.sessions.find((x) => x.id === message.sessionId)!.owner : admin;
  const deletable = [...world.members, ...world.admins];
  switch (op.kind) {
    case 'createUser':
      return { as: admin, variables: { input: { email: `race-${randomUUID()}@test.hub`, displayName: `Race ${op.target}` } } };
    case 'deleteUsers':
      return { as: admin, variables: { ids: op.others.map((i) => deletable[i % deletable.length].id) } };
    case 'createSession':
      return { as, variables: { input: { title: `race ${op.target}`, ownerId: session.owner.id, skillIds: skills } } };
    case 'updateSession':
      return { as, variables: { id: session.id, input: { title: `race ${op.target}` } } };
    case 'postMessage':
      // Half of the posts begin a streamed reply (STREAMING), the others are whole turns.
      return { as, variables: { input: { sessionId: session.id, role: 'USER', content: `race-${op.target}`, status: op.status % 2 ? 'STREAMING' : 'COMPLETE' } } };
    case 'appendMessageContent':
      // Offsets at and past the seeded 'Hello' (5): concurrent appends race for the same length.
      return { as: messageActor, variables: { id: message.id, delta: 'ab', offset: 5 + 2 * (op.others[0] % 3) } };
    case 'finishMessage':
      return {
        as: messageActor,
        variables: { id: message.id, status: op.status % 2 ? 'FAILED' : 'COMPLETE', usage: op.others[0] % 2 ? null : { inputTokens: op.target, outputTokens: op.status, model: 'race-model' } },
      };
    case 'createAudioUpload':
      return { as, variables: { input: { sessionId: session.id, contentType: 'audio/mpeg', byteSize: 1000 + op.target } } };
    case 'deleteMessage':
    case 'readMessage':
      return { as: messageActor, variables: { id: message.id } };
    case 'readNode':
      return op.others[0] % 2 ? { as: messageActor, variables: { id: message.id } } : { as, variables: { id: session.id } };
    case 'createSkill':
      return { as: admin, variables: { input: { name: `race-${randomUUID()}` } } };
    case 'deleteSkill':
      return { as: admin, variables: { id: skills[0] } };
    case 'attachSkills':
    case 'detachSkills':
      return { as, variables: { s: session.id, k: skills } };
    case 'reportNodeSync':
      return { as, variables: { input: { sessionId: session.id, nodeId: `node-${'abc'[op.others[0] % 3]}`, status: ['PENDING', 'SYNCING', 'SYNCED', 'FAILED'][op.status] } } };
    case 'purgeSession':
      return { as: admin, variables: { id: session.id } };
    default:
      return { as, variables: { id: session.id } };
  }
}

function outcome(r: HttpResult): string {
  if (r.network) return `network:${r.network}`;
  if (r.codes.length) return `${r.status} ${r.codes.join('+')}`;
  return r.status === 200 && r.body?.data ? 'ok' : `HTTP ${r.status}`;
}

const ids = (list: { id: string }[] | undefined) => (list ?? []).map((x) => x.id);

/** Whether a Session in an answer agrees with itself: `isSyncing` is what its own `nodeSync` says. */
function sessionProblem(kind: string, session: any): string | undefined {
  if (!session?.nodeSync) return undefined;
  const syncing = session.nodeSync.some((n: { status: string }) => ACTIVE.has(n.status));
  if (session.isSyncing !== syncing) return `${kind}: answered isSyncing ${session.isSyncing} with nodeSync ${JSON.stringify(session.nodeSync)}`;
  return undefined;
}

/** What is wrong with one answer, if anything: a code a race may not give, or an answer that is not its own write. */
function problem(op: Op, variables: Record<string, any>, r: HttpResult): string | undefined {
  if (r.network || r.status >= 500) return `${op.kind}: ${outcome(r)} ${r.messages.join('; ')}`;
  if (r.codes.some((c) => !RACE_CODES.has(c))) return `${op.kind}: ${r.codes.join('+')} ${r.messages.join('; ')}`;
  if (op.kind.startsWith('read')) return undefined;
  if (r.codes.length) return undefined;
  const data = r.body?.data?.[op.kind];
  if (data == null) return `${op.kind}: no data`;
  const input = variables.input;
  switch (op.kind) {
    case 'createSession': {
      if (data.owner?.id !== input.ownerId) return `createSession answered owner ${data.owner?.id}`;
      const want = [...new Set<string>(input.skillIds)].sort();
      if (JSON.stringify([...ids(data.skills)].sort()) !== JSON.stringify(want)) return `createSession answered skills other than the links it wrote`;
      break;
    }
    case 'updateSession':
      if (data.title !== input.title) return `updateSession answered title ${data.title}`;
      break;
    case 'deleteSession':
      if (data.deletedAt === null) return `deleteSession answered a live session`;
      break;
    case 'restoreSession':
      if (data.deletedAt !== null) return `restoreSession answered a deleted session`;
      break;
    case 'postMessage':
      if (data.session?.id !== input.sessionId || data.content !== input.content) return `postMessage answered another message or session`;
      if (data.deletedAt !== null || data.session.deletedAt !== null) return `postMessage answered a deleted message or session`;
      if (data.status !== input.status) return `postMessage answered status ${data.status} for ${input.status}`;
      break;
    case 'appendMessageContent':
      if (data.id !== variables.id || data.status !== 'STREAMING') return `appendMessageContent answered another message or a finished one`;
      if ([...data.content].length !== variables.offset + 2 || !data.content.endsWith(variables.delta)) return `appendMessageContent answered content without its own append`;
      if (data.deletedAt !== null || data.session?.deletedAt !== null) return `appendMessageContent answered a deleted message or session`;
      break;
    case 'finishMessage': {
      if (data.id !== variables.id || data.status !== variables.status) return `finishMessage answered status ${data.status} for ${variables.status}`;
      const usage = variables.usage;
      if (JSON.stringify(data.usage) !== JSON.stringify(usage && { ...usage })) return `finishMessage answered usage ${JSON.stringify(data.usage)}`;
      break;
    }
    case 'deleteMessage':
      if (!(Date.parse(data.deletedAt) >= Date.parse(data.createdAt))) return `deleteMessage stamped ${data.deletedAt} before its creation ${data.createdAt}`;
      break;
    case 'attachSkills':
      if (!variables.k.every((k: string) => ids(data.skills).includes(k))) return `attachSkills answered without a link it wrote`;
      break;
    case 'detachSkills':
      if (variables.k.some((k: string) => ids(data.skills).includes(k))) return `detachSkills answered a link it removed`;
      break;
    case 'reportNodeSync': {
      const own = (data.nodeSync ?? []).find((n: { nodeId: string }) => n.nodeId === input.nodeId);
      if (!own || own.status !== input.status) return `reportNodeSync answered without the row it stored`;
      // Its row's `isSyncing` and the node rows it changed are both its transaction's.
      return sessionProblem(op.kind, data);
    }
    default:
      return undefined;
  }
  return undefined;
}

/** Runs generated schedules through `send` for the budget; returns the figures and the problems found. */
async function runSchedules(name: string, send: Send, kinds: fc.Arbitrary<Kind>, targets = 100): Promise<{ figures: Figures; problems: string[] }> {
  const started = Date.now();
  const figures = newFigures();
  const problems: string[] = [];
  const retriedBefore = { ...retriedWrites };
  // The schedule running when the budget ends: fast-check stops waiting for it, this function does not.
  let running: Promise<unknown> = Promise.resolve();
  await fc
    .assert(
      fc.asyncProperty(fc.array(opArb(kinds, targets), { minLength: 12, maxLength: 32 }), (ops) => {
        const schedule = runSchedule(ops);
        running = schedule;
        return schedule;
      }),
      { numRuns: 10_000, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false, seed: Number(process.env.HUB_RACE_SEED ?? Date.now() % 2 ** 31) },
    )
    .catch(() => undefined); // the problems below say what failed, with their counts
  await running.catch(() => undefined);

  async function runSchedule(ops: Op[]): Promise<boolean> {
    const world = await buildWorld();
    const results = await Promise.all(
      ops.map(async (op) => {
        const { as, variables } = request(world, op);
        await new Promise((resolve) => setTimeout(resolve, op.delayMs));
        return { op, variables, r: await send(DOCS[op.kind], variables, as) };
      }),
    );
    figures.schedules += 1;
    figures.operations += ops.length;
    for (const { op, variables, r } of results) {
      const o = outcome(r);
      figures.outcomes[o] = (figures.outcomes[o] ?? 0) + 1;
      const byKind = (figures.byKind[op.kind] ??= {});
      byKind[o] = (byKind[o] ?? 0) + 1;
      const wrong = problem(op, variables, r);
      if (wrong) problems.push(wrong);
    }
    const violations = await findViolations(s.dataSource);
    if (Object.keys(violations).length) problems.push(`invariants: ${JSON.stringify(violations)}`);
    return problems.length === 0;
  }
  figures.problems = tally(problems.map((p) => p.replace(/[0-9a-f-]{36}/g, '<id>').slice(0, 200)));
  figures.seconds = Math.round((Date.now() - started) / 1000);
  // Write transactions PostgreSQL rolled back (deadlock, serialization) and the server ran again (in this process only).
  const retried = Object.fromEntries(Object.entries(retriedWrites).map(([code, n]) => [code, n - (retriedBefore[code] ?? 0)]));
  all[name] = { ...figures, retriedTransactions: retried };
  return { figures, problems };
}

const inProcess: Send = (doc, variables, as) => s.gql(doc, variables, as);

test('every mutation and parent read racing deleteUsers, purgeSession and deleteSkill: 0 INTERNAL, only race codes, every invariant', async () => {
  const { figures, problems } = await runSchedules('inProcess', inProcess, fc.constantFrom(...KINDS));
  expect(tally(problems)).toEqual({});
  expect(figures.schedules).toBeGreaterThan(5);
  // Every kind ran, and the races were real: some deletions won (a lost race answered NOT_FOUND).
  expect(Object.keys(figures.byKind).sort()).toEqual([...KINDS].sort());
  expect(figures.outcomes['200 NOT_FOUND']).toBeGreaterThan(0);
});

test('every answer describes its own write, with purgeSession, deleteSkill, reportNodeSync and attachSkills racing it', async () => {
  const weighted = fc.oneof(...ANSWER_KINDS.map((k) => ({ weight: ANSWER_WEIGHTS[k] ?? 1, arbitrary: fc.constant(k) })));
  // Two sessions in play (their messages too), so most writes meet a racing one.
  const { figures, problems } = await runSchedules('answers', inProcess, weighted, 2);
  expect(tally(problems)).toEqual({});
  expect(figures.schedules).toBeGreaterThan(5);
});

test('the same races against `hub serve --workers 2`: 0 INTERNAL over HTTP between two processes', async () => {
  if (!builtServerExists()) throw new Error('dist/ is missing: run `npm run build` first');
  child = await startChildServer({
    env: { DATABASE_URL: testDatabaseUrl(), HUB_JWT_SECRET: TEST_SECRET, HUB_DATA_DIR: tempDir('hub-races-') },
    args: ['--workers', '2', '--no-migrate'],
    startTimeoutMs: 120_000,
  });
  const url = child.graphqlUrl;
  const send: Send = (doc, variables, as) => gql(url, signToken(TEST_SECRET, as.id, 3600), doc, variables, 30_000);
  const { figures, problems } = await runSchedules('twoWorkers', send, fc.constantFrom(...KINDS));
  expect(tally(problems)).toEqual({});
  expect(figures.schedules).toBeGreaterThan(3);
  expect(child.alive()).toBe(true);
});
