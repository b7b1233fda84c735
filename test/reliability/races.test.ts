/**
 * Writers racing on shared rows: fast-check generates schedules of concurrent mutations
 * (deleteUsers, deleteSession, restoreSession, purgeSession, postMessage, deleteMessage,
 * attachSkills, detachSkills, deleteSkill, reportNodeSync, updateSession) over one small world of
 * users, sessions, messages and skills, and sends each schedule at once through the real HTTP app
 * (a 20-connection pool, so the transactions really overlap in PostgreSQL). Payloads select the
 * rows a write answers with (`session`, `owner`), which a concurrent delete may remove right after
 * the commit. Whatever the interleaving: no 5xx, no INTERNAL_SERVER_ERROR (a deadlock or a
 * vanished row used to be both), only the codes a lost race may give, a committed write answered
 * from what it wrote, and every invariant of test/invariants.ts after each schedule.
 */
import fc from 'fast-check';
import { factories } from '../factories';
import { findViolations } from '../invariants';
import { retriedWrites } from '../../src/db/write-transaction';
import { User } from '../../src/users/user.entity';
import { tally, writeFigures } from './support/figures';
import { HttpResult } from './support/http';
import { InProcessServer, startInProcess } from './support/in-process';

const SESSION = 'id deletedAt updatedAt owner { id }';
const DOCS = {
  deleteUsers: `mutation($ids: [ID!]!) { deleteUsers(ids: $ids) { deletedCount } }`,
  deleteSession: `mutation($id: ID!) { deleteSession(id: $id) { ${SESSION} messageCount } }`,
  restoreSession: `mutation($id: ID!) { restoreSession(id: $id) { ${SESSION} messageCount } }`,
  purgeSession: `mutation($id: ID!) { purgeSession(id: $id) }`,
  postMessage: `mutation($input: PostMessageInput!) { postMessage(input: $input) { id createdAt deletedAt session { ${SESSION} } } }`,
  deleteMessage: `mutation($id: ID!) { deleteMessage(id: $id) { id createdAt deletedAt session { ${SESSION} } } }`,
  attachSkills: `mutation($s: ID!, $k: [ID!]!) { attachSkills(sessionId: $s, skillIds: $k) { ${SESSION} skills { id } } }`,
  detachSkills: `mutation($s: ID!, $k: [ID!]!) { detachSkills(sessionId: $s, skillIds: $k) { ${SESSION} skills { id } } }`,
  deleteSkill: `mutation($id: ID!) { deleteSkill(id: $id) }`,
  reportNodeSync: `mutation($input: ReportNodeSyncInput!) { reportNodeSync(input: $input) { ${SESSION} isSyncing nodeSync { nodeId status } } }`,
  updateSession: `mutation($id: ID!, $input: UpdateSessionInput!) { updateSession(id: $id, input: $input) { ${SESSION} version title } }`,
};
type Kind = keyof typeof DOCS;

/** What a lost race may answer: the row went away (NOT_FOUND), the state moved on (CONFLICT), the caller was deleted. */
const RACE_CODES = new Set(['NOT_FOUND', 'CONFLICT', 'UNAUTHENTICATED']);
const USERS = 3;
const SESSIONS_PER_USER = 2;
const MESSAGES_PER_SESSION = 2;
const SKILLS = 3;
/** Wall-clock budget for the generated schedules (the suite's time bound), and a cap on runs. */
const BUDGET_MS = Number(process.env.HUB_RACE_BUDGET_MS ?? 60_000);

interface World {
  admin: User;
  users: User[];
  sessions: { id: string; owner: User }[];
  messages: { id: string; sessionId: string }[];
  skills: string[];
}

interface Op {
  kind: Kind;
  target: number;
  others: number[];
  asOwner: boolean;
  status: number;
  delayMs: number;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom(...(Object.keys(DOCS) as Kind[])),
  target: fc.nat({ max: 99 }),
  others: fc.array(fc.nat({ max: 99 }), { minLength: 1, maxLength: 3 }),
  asOwner: fc.boolean(),
  status: fc.nat({ max: 3 }),
  delayMs: fc.nat({ max: 8 }),
});

let s: InProcessServer;
const figures = { schedules: 0, operations: 0, outcomes: {} as Record<string, number>, byKind: {} as Record<string, Record<string, number>> };

beforeAll(async () => {
  s = await startInProcess({ poolSize: 20 });
});
afterAll(async () => {
  writeFigures('races', figures);
  await s?.close();
});

async function buildWorld(): Promise<World> {
  const f = factories(s.dataSource);
  const admin = await f.admin();
  const world: World = { admin, users: [], sessions: [], messages: [], skills: [] };
  for (let k = 0; k < SKILLS; k += 1) world.skills.push((await f.skill()).id);
  for (let u = 0; u < USERS; u += 1) {
    const owner = await f.user();
    world.users.push(owner);
    for (let i = 0; i < SESSIONS_PER_USER; i += 1) {
      const session = await f.session(owner);
      world.sessions.push({ id: session.id, owner });
      for (let m = 0; m < MESSAGES_PER_SESSION; m += 1) world.messages.push({ id: (await f.message(session)).id, sessionId: session.id });
      for (const skill of world.skills) await f.link(session, { id: skill } as never);
      await f.nodeSync(session, 'node-a', 'SYNCING' as never);
    }
  }
  return world;
}

function request(world: World, op: Op): { as: User; variables: Record<string, unknown> } {
  const session = world.sessions[op.target % world.sessions.length];
  const as = op.asOwner ? session.owner : world.admin;
  const skills = op.others.map((i) => world.skills[i % world.skills.length]);
  switch (op.kind) {
    case 'deleteUsers':
      return { as: world.admin, variables: { ids: op.others.map((i) => world.users[i % world.users.length].id) } };
    case 'postMessage':
      return { as, variables: { input: { sessionId: session.id, role: 'USER', content: `race-${op.target}` } } };
    case 'deleteMessage': {
      const message = world.messages[op.target % world.messages.length];
      const owner = world.sessions.find((x) => x.id === message.sessionId)!.owner;
      return { as: op.asOwner ? owner : world.admin, variables: { id: message.id } };
    }
    case 'attachSkills':
    case 'detachSkills':
      return { as, variables: { s: session.id, k: skills } };
    case 'deleteSkill':
      return { as: world.admin, variables: { id: skills[0] } };
    case 'reportNodeSync':
      return { as, variables: { input: { sessionId: session.id, nodeId: `node-${'abc'[op.others[0] % 3]}`, status: ['PENDING', 'SYNCING', 'SYNCED', 'FAILED'][op.status] } } };
    case 'updateSession':
      return { as, variables: { id: session.id, input: { title: `race ${op.target}` } } };
    case 'purgeSession':
      return { as: world.admin, variables: { id: session.id } };
    default:
      return { as, variables: { id: session.id } };
  }
}

function outcome(r: HttpResult): string {
  if (r.network) return `network:${r.network}`;
  if (r.codes.length) return `${r.status} ${r.codes.join('+')}`;
  return r.status === 200 && r.body?.data ? 'ok' : `HTTP ${r.status}`;
}

/** What is wrong with one answer, if anything. */
function problem(op: Op, variables: Record<string, unknown>, r: HttpResult): string | undefined {
  if (r.network || r.status >= 500) return `${op.kind}: ${outcome(r)} ${r.messages.join('; ')}`;
  if (r.codes.some((c) => !RACE_CODES.has(c))) return `${op.kind}: ${r.codes.join('+')} ${r.messages.join('; ')}`;
  if (r.codes.length) return undefined;
  const data = r.body?.data?.[op.kind];
  if (data == null) return `${op.kind}: no data`;
  if (op.kind === 'postMessage') {
    const input = variables.input as { sessionId: string };
    if (data.session?.id !== input.sessionId) return `postMessage answered with session ${data.session?.id}`;
    if (data.deletedAt !== null) return `postMessage answered a deleted message`;
  }
  if (op.kind === 'deleteMessage' && !(Date.parse(data.deletedAt) >= Date.parse(data.createdAt))) {
    return `deleteMessage stamped ${data.deletedAt} before its creation ${data.createdAt}`;
  }
  return undefined;
}

test('racing writers on shared rows: no 5xx, no INTERNAL_SERVER_ERROR, every invariant after every schedule', async () => {
  const started = Date.now();
  const problems: string[] = [];
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 12, maxLength: 32 }), async (ops) => {
      const world = await buildWorld();
      const results = await Promise.all(
        ops.map(async (op) => {
          const { as, variables } = request(world, op);
          await new Promise((resolve) => setTimeout(resolve, op.delayMs));
          return { op, variables, r: await s.gql(DOCS[op.kind], variables, as) };
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
    }),
    { numRuns: 10_000, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false, seed: Number(process.env.HUB_RACE_SEED ?? Date.now() % 2 ** 31) },
  ).catch((error) => {
    throw new Error(`${String(error).slice(0, 2000)}\nproblems: ${JSON.stringify(tally(problems), null, 1)}`);
  });
  figures.outcomes = tally(Object.entries(figures.outcomes).flatMap(([k, n]) => Array(n).fill(k)));
  (figures as Record<string, unknown>).seconds = Math.round((Date.now() - started) / 1000);
  // Write transactions PostgreSQL rolled back (deadlock, serialization) and the server ran again.
  (figures as Record<string, unknown>).retriedTransactions = { ...retriedWrites };
  expect(problems).toEqual([]);
  expect(figures.schedules).toBeGreaterThan(5);
});
