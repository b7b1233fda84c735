/**
 * Heavy requests wait their turn per viewer (HUB_MAX_HEAVY_REQUESTS_PER_VIEWER; the rule is stated
 * once, `canExceedResponseLimit` in src/http/response-size.ts: an answer whose long texts can pass
 * HUB_MAX_RESPONSE_BYTES). Seen from the database, with generated schedules of heavy and light
 * requests from several viewers against the real server: while the test holds a lock on the
 * messages table, every heavy request that runs is blocked on it, so PostgreSQL's own count of
 * waiting statements is the number of heavy requests running at once. It is at most N per member,
 * and exactly N for a member with more (another viewer's never wait behind them; an
 * administrator's are not bounded, they run the operators' dashboards); light requests
 * of the same viewers are answered meanwhile; every turn ends (after data, errors, a response-size
 * refusal, a cost refusal, a client that left), so a later round again runs N per viewer; and a
 * waiter whose line stood still gets the coded 429.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Client } from 'pg';
import { Session } from '../../src/sessions/session.entity';
import { User } from '../../src/users/user.entity';
import { freshDatabase } from '../databases';
import { factories, Factories } from '../factories';
import { startTestServer, TestServer, testDatabaseUrl } from '../harness';

/** Any page of contents is heavy against this limit (one content can be 192,000 bytes of JSON). */
const MAX_RESPONSE_BYTES = 65_536;
/** A page of 50 contents is over this cost; the pages of the schedules are not. */
const MAX_QUERY_COST = 1_000;
/** Contents long enough that a page of four is over MAX_RESPONSE_BYTES. */
const LONG_CONTENT = 'x'.repeat(20_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let own: { url: string; drop(): Promise<void> };
/** One server per bound N (1 and 2), and one whose line gives up after a short statement timeout. */
const servers = new Map<number, TestServer>();
let impatient: TestServer;
let f: Factories;
let observer: Client;
beforeAll(async () => {
  own = await freshDatabase(testDatabaseUrl());
  const env = (n: number) => ({
    DATABASE_URL: own.url,
    HUB_MAX_RESPONSE_BYTES: String(MAX_RESPONSE_BYTES),
    HUB_MAX_QUERY_COST: String(MAX_QUERY_COST),
    HUB_MAX_HEAVY_REQUESTS_PER_VIEWER: String(n),
  });
  for (const n of [1, 2]) servers.set(n, await startTestServer(env(n), { poolSize: 18 }));
  impatient = await startTestServer({ ...env(1), HUB_STATEMENT_TIMEOUT_MS: '2000' }, { poolSize: 4 });
  f = factories(servers.get(1)!.dataSource);
  observer = new Client({ connectionString: own.url });
  await observer.connect();
}, 120_000);
afterAll(async () => {
  await observer?.end();
  for (const server of [...servers.values(), impatient]) await server?.close();
  await own?.drop();
});

/** Statements of this database waiting for a lock: the heavy requests running while `locked` holds. */
async function blockedStatements(): Promise<number> {
  const { rows } = await observer.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
  );
  return rows[0].n;
}

/** Holds an exclusive lock on `tables` until the returned function is called (once; again does nothing). */
async function locked(...tables: string[]): Promise<() => Promise<void>> {
  const client = new Client({ connectionString: own.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${tables.join(', ')} IN ACCESS EXCLUSIVE MODE`);
  let released: Promise<void> | undefined;
  return () => (released ??= client.query('COMMIT').then(() => client.end()));
}

/** Waits until the blocked count reaches `expected` (or 5 s pass), then lets it settle; returns what it settled at. */
async function settledBlocked(expected: number): Promise<number> {
  const until = Date.now() + 5_000;
  while ((await blockedStatements()) < expected && Date.now() < until) await sleep(20);
  // A schedule that let more run at once would show them within this.
  await sleep(300);
  return blockedStatements();
}

type Kind = 'page' | 'tooLarge' | 'missing' | 'badId' | 'overCost' | 'leaves' | 'me' | 'sessions';
/** Heavy kinds whose execution reads messages: blocked while the lock holds. */
const BLOCKING: Kind[] = ['page', 'tooLarge', 'leaves'];
const LIGHT: Kind[] = ['me', 'sessions'];

interface Viewer {
  user: User;
  admin: boolean;
  short: Session;
  long: Session;
}

const contents = (first: number) => `query ($s: ID!) { session(id: $s) { messages(first: ${first}) { nodes { content } } } }`;
function requestOf(kind: Kind, viewer: Viewer): { query: string; variables?: Record<string, unknown> } {
  switch (kind) {
    case 'page':
    case 'leaves':
      return { query: contents(3), variables: { s: viewer.short.id } };
    case 'tooLarge':
      return { query: contents(4), variables: { s: viewer.long.id } };
    case 'missing':
      return { query: contents(3), variables: { s: randomUUID() } };
    case 'badId':
      return { query: contents(3), variables: { s: 'not an id' } };
    case 'overCost':
      return { query: contents(50), variables: { s: viewer.short.id } };
    case 'me':
      return { query: '{ me { id } }' };
    case 'sessions':
      return { query: '{ sessions(first: 2) { nodes { id title } } }' };
  }
}

interface Answer {
  status: number;
  body?: any;
  headers?: Headers;
  /** Set when the client left (`leaves`) or the request failed without an answer. */
  gone?: string;
}

function send(server: TestServer, viewer: Viewer, kind: Kind, signal?: AbortSignal): Promise<Answer> {
  return fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.tokenFor(viewer.user)}` },
    body: JSON.stringify(requestOf(kind, viewer)),
    signal,
  }).then(
    async (response) => ({ status: response.status, body: await response.json(), headers: response.headers }),
    (error: Error) => ({ status: 0, gone: error.name }),
  );
}

/** What each kind must be answered once the lock is gone. */
function expectAnswer(kind: Kind, answer: Answer): void {
  const codes = (answer.body?.errors ?? []).map((e: any) => [e.extensions?.code, e.extensions?.reason ?? null]);
  switch (kind) {
    case 'page':
      expect({ status: answer.status, codes, size: answer.body?.data?.session?.messages?.nodes?.length }).toEqual({ status: 200, codes: [], size: 3 });
      break;
    case 'tooLarge':
      expect({ status: answer.status, codes }).toEqual({ status: 400, codes: [['BAD_USER_INPUT', 'RESPONSE_TOO_LARGE']] });
      break;
    case 'missing':
      expect({ status: answer.status, codes, session: answer.body?.data?.session }).toEqual({ status: 200, codes: [], session: null });
      break;
    case 'badId':
      expect({ status: answer.status, code: codes[0]?.[0] }).toEqual({ status: 200, code: 'BAD_USER_INPUT' });
      break;
    case 'overCost':
      expect({ status: answer.status, codes }).toEqual({ status: 400, codes: [['BAD_USER_INPUT', 'QUERY_COST']] });
      break;
    case 'leaves':
      expect(answer.gone).toBe('AbortError');
      break;
    case 'me':
    case 'sessions':
      expect({ status: answer.status, codes }).toEqual({ status: 200, codes: [] });
      break;
  }
}

async function newViewer(admin = false): Promise<Viewer> {
  const user = admin ? await f.admin() : await f.user();
  const [short, long] = await Promise.all([f.session(user), f.session(user)]);
  for (let i = 0; i < 3; i += 1) await f.message(short);
  for (let i = 0; i < 4; i += 1) await f.message(long, { content: LONG_CONTENT });
  return { user, admin, short, long };
}

const kinds = fc.constantFrom<Kind>('page', 'page', 'tooLarge', 'missing', 'badId', 'overCost', 'leaves', 'me', 'sessions');

it('runs at most N heavy requests per viewer at once, never delays light ones or other viewers, and ends every turn', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(1, 2),
      fc.integer({ min: 2, max: 3 }),
      fc.boolean(),
      fc.array(fc.record({ viewer: fc.nat(), kind: kinds }), { minLength: 1, maxLength: 10 }),
      async (n, viewerCount, lastIsAdmin, generated) => {
        const server = servers.get(n)!;
        // Administrators (the operators' dashboards) are not bounded.
        const viewers = await Promise.all(Array.from({ length: viewerCount }, (_, v) => newViewer(lastIsAdmin && v === viewerCount - 1)));
        const bound = (v: number, running: number) => (viewers[v].admin ? running : Math.min(running, n));
        // The first viewer, a member, always has more heavy requests than it may run at once.
        const schedule = [...generated.map(({ viewer, kind }) => ({ viewer: viewer % viewerCount, kind })), ...Array.from({ length: n + 1 }, () => ({ viewer: 0, kind: 'page' as Kind }))];
        const blocking = viewers.map((_, v) => schedule.filter((s) => s.viewer === v && BLOCKING.includes(s.kind)).length);
        const expected = blocking.reduce((sum, b, v) => sum + bound(v, b), 0);

        const unlock = await locked('messages');
        const leaving = new AbortController();
        const answers = schedule.map(({ viewer, kind }) => send(server, viewers[viewer], kind, kind === 'leaves' ? leaving.signal : undefined));
        try {
          expect(await settledBlocked(expected)).toBe(expected);
          // Light requests of the same viewers were answered while their heavy ones wait.
          const light = schedule.flatMap((s, i) => (LIGHT.includes(s.kind) ? [{ ...s, answer: answers[i] }] : []));
          const lightAnswers = await Promise.race([Promise.all(light.map((l) => l.answer)), sleep(3_000).then(() => 'still waiting')]);
          expect(lightAnswers).not.toBe('still waiting');
          light.forEach((l, i) => expectAnswer(l.kind, (lightAnswers as Answer[])[i]));
          // Clients that leave: their requests still run to the end, in their turn.
          leaving.abort();
          expect(await settledBlocked(expected)).toBe(expected);
        } finally {
          await unlock();
        }
        const settled = await Promise.all(answers);
        schedule.forEach((s, i) => expectAnswer(s.kind, settled[i]));

        // Every turn ended: a new round runs N per viewer again.
        await sleep(200);
        const again = await locked('messages');
        let round: Promise<Answer>[] = [];
        try {
          round = viewers.flatMap((viewer) => Array.from({ length: n + 1 }, () => send(server, viewer, 'page')));
          const full = viewers.reduce((sum, _, v) => sum + bound(v, n + 1), 0);
          expect(await settledBlocked(full)).toBe(full);
        } finally {
          await again();
        }
        for (const answer of await Promise.all(round)) expectAnswer('page', answer);
      },
    ),
    { numRuns: 12 },
  );
}, 180_000);

it('refuses a waiter with a coded 429 when its line stood still, and the line goes on', async () => {
  const [viewer, other] = await Promise.all([newViewer(), newViewer()]);
  // The running request is held first on `sessions`, then on `messages`: a new statement, so the
  // statement timeout (also the line's wait) never cancels it, while the waiter behind it waits
  // that long without the line moving.
  const unlockSessions = await locked('sessions');
  const unlockMessages = await locked('messages');
  try {
    const running = send(impatient, viewer, 'page');
    expect(await settledBlocked(1)).toBe(1);
    const waiting = send(impatient, viewer, 'page');
    const started = Date.now();
    await sleep(700);
    await unlockSessions();
    // Another viewer's heavy request runs meanwhile (blocked beside the first).
    const others = send(impatient, other, 'page');
    const refused = await waiting;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(await blockedStatements()).toBe(2);
    await unlockMessages();
    expect(refused.status).toBe(429);
    expect(refused.headers?.get('retry-after')).toBe('2');
    expect(refused.body.errors).toHaveLength(1);
    expect(refused.body.errors[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'HEAVY_REQUESTS',
      limit: 'HUB_MAX_HEAVY_REQUESTS_PER_VIEWER',
      validation: [{ field: 'query' }],
    });
    expectAnswer('page', await running);
    expectAnswer('page', await others);
  } finally {
    await unlockSessions();
    await unlockMessages();
  }
  // The refusal took no turn: the viewer's next heavy request runs at once.
  expectAnswer('page', await send(impatient, viewer, 'page'));
}, 30_000);
