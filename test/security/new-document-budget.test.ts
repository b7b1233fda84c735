/**
 * The per-viewer new-document budget (HUB_MAX_NEW_DOCUMENTS_PER_MINUTE): parsing, validating and
 * compiling a document the server has not seen costs CPU the cost limit cannot see, so each viewer
 * may bring only so many per minute. What a demanding user expects of it (the rules are stated
 * once, in src/http/operation-guard.ts): beyond the budget a coded 429 (NEW_DOCUMENT_RATE, with
 * `retry-after`); documents already cached still run, whoever sent them first; another viewer is
 * unaffected; trusted documents are always free; an automatic persisted query is one document,
 * charged once, also when only its hash reaches a process that lacks it; the window refills.
 */
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import fc from 'fast-check';
import { FixedWindows } from '../../src/limits/fixed-windows';
import { LimitExceeded, RequesterLimits } from '../../src/limits/requester-limits';
import { postgresWindows, SharedWindows } from '../../src/limits/shared-windows';
import { User } from '../../src/users/user.entity';
import { factories, Factories } from '../factories';
import { startTestServer, TestServer } from '../harness';
import { problemWith, RawAnswer, rawRequest } from '../support/raw-http';

const BUDGET = 4;
const MANIFEST = path.resolve(__dirname, '../../examples/dashboard-client/gql/persisted-documents.json');
const [[DASHBOARD_ID]] = Object.entries(require(MANIFEST) as Record<string, string>);

/** Two processes on one database (the automatic persisted queries table is shared). */
let one: TestServer;
let two: TestServer;
let f: Factories;
beforeAll(async () => {
  const env = { HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: String(BUDGET), HUB_TRUSTED_DOCUMENTS: 'allow', HUB_TRUSTED_DOCUMENTS_FILE: MANIFEST };
  [one, two] = await Promise.all([startTestServer(env), startTestServer(env)]);
  f = factories(one.dataSource);
});
afterAll(async () => {
  await Promise.all([one?.close(), two?.close()]);
});

const post = (server: TestServer, as: User, body: Record<string, unknown>) =>
  rawRequest(server.url, { headers: { 'content-type': 'application/json', authorization: `Bearer ${server.tokenFor(as)}` }, body: JSON.stringify(body) });
const get = (server: TestServer, as: User, params: Record<string, string>) =>
  rawRequest(`${server.url}?${new URLSearchParams(params)}`, { method: 'GET', headers: { authorization: `Bearer ${server.tokenFor(as)}`, 'apollo-require-preflight': 'true' } });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const apq = (query: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256(query) } });

function expectData(answer: RawAnswer): void {
  expect(problemWith(answer)).toBeUndefined();
  expect({ status: answer.status, errors: answer.json?.errors }).toEqual({ status: 200, errors: undefined });
}
function expectOverBudget(answer: RawAnswer): void {
  expect(answer.status).toBe(429);
  expect(answer.json.errors).toHaveLength(1);
  expect(answer.json.errors[0].extensions).toMatchObject({
    code: 'BAD_USER_INPUT',
    reason: 'NEW_DOCUMENT_RATE',
    limit: 'HUB_MAX_NEW_DOCUMENTS_PER_MINUTE',
    validation: [{ field: 'query' }],
  });
  const retryAfter = Number(answer.headers['retry-after']);
  expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
}

/** Valid documents, new to the server (an operation name of their own), of generated shapes. */
const FIELDS = ['id', 'email', 'displayName', 'role', 'createdAt', 'sessionCount', 'sessions(first: 2) { totalCount nodes { id title } }'];
const newDocuments = (count: number) =>
  fc.array(fc.subarray(FIELDS, { minLength: 1 }), { minLength: count, maxLength: count }).map((shapes) => {
    const run = randomUUID().replace(/-/g, '');
    return shapes.map((fields, i) => `query N${run}_${i} { me { ${fields.join(' ')} } }`);
  });

describe('the new-document budget', () => {
  it('refuses a viewer over it with a coded 429; their cached documents, trusted documents and others keep running', async () => {
    await fc.assert(
      fc.asyncProperty(newDocuments(BUDGET + 3), fc.subarray([0, 1, 2, 3]), fc.constantFrom('POST', 'GET'), async (docs, again, method) => {
        const [viewer, other] = await Promise.all([f.user(), f.user()]);
        const send = (as: User, query: string) => (method === 'POST' ? post(one, as, { query }) : get(one, as, { query }));
        for (const query of docs.slice(0, BUDGET)) expectData(await send(viewer, query));
        expectOverBudget(await send(viewer, docs[BUDGET]));
        // Over budget: the documents already cached still run, and a trusted document does.
        for (const i of again) expectData(await send(viewer, docs[i]));
        expectData(await post(one, viewer, { documentId: DASHBOARD_ID, variables: { first: 1 } }));
        expectData(await get(one, viewer, { documentId: DASHBOARD_ID, variables: '{"first":1}' }));
        // Another viewer has a budget of their own, and documents they bring are cached for everyone.
        for (const query of docs.slice(BUDGET, BUDGET + 3)) expectData(await send(other, query));
        expectData(await send(viewer, docs[BUDGET]));
        // Still over: a new document is refused again.
        expectOverBudget(await send(viewer, `${docs[0]} # new text`));
      }),
      { numRuns: 12 },
    );
  }, 120_000);

  it('refills a minute after the window began (retry-after says when)', async () => {
    const viewer = await f.user();
    const docs = fc.sample(newDocuments(2 * BUDGET + 1), 1)[0];
    const realNow = Date.now.bind(Date);
    let offset = 0;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
    try {
      for (const query of docs.slice(0, BUDGET)) expectData(await post(one, viewer, { query }));
      const refused = await post(one, viewer, { query: docs[BUDGET] });
      expectOverBudget(refused);
      // Five seconds before the window ends, still refused; six seconds later, refilled.
      offset += (Number(refused.headers['retry-after']) - 6) * 1000;
      expectOverBudget(await post(one, viewer, { query: docs[BUDGET] }));
      offset += 6000;
      for (const query of docs.slice(BUDGET, 2 * BUDGET)) expectData(await post(one, viewer, { query }));
      expectOverBudget(await post(one, viewer, { query: docs[2 * BUDGET] }));
    } finally {
      clock.mockRestore();
    }
  });

  it('charges an automatic persisted query once: its hash (not found, even twice), then hash and text', async () => {
    const viewer = await f.user();
    const docs = fc.sample(newDocuments(BUDGET + 1), 1)[0];
    for (const query of docs.slice(0, BUDGET)) {
      for (let i = 0; i < 2; i += 1) {
        const miss = await post(one, viewer, { extensions: apq(query) });
        // In the API's vocabulary; APQ clients (Apollo Client's link) go by the message.
        expect(miss.json.errors[0]).toMatchObject({ message: 'PersistedQueryNotFound', extensions: { code: 'BAD_USER_INPUT' } });
      }
      expectData(await post(one, viewer, { query, extensions: apq(query) }));
      // Registered and cached: the hash alone now runs, uncharged.
      expectData(await post(one, viewer, { extensions: apq(query) }));
    }
    expectOverBudget(await post(one, viewer, { extensions: apq(docs[BUDGET]) }));
    expectOverBudget(await post(one, viewer, { query: docs[BUDGET], extensions: apq(docs[BUDGET]) }));
  });

  it('holds across processes: what a viewer spent on one process is spent on every other (no N × budget)', async () => {
    await fc.assert(
      fc.asyncProperty(newDocuments(BUDGET + 1), fc.array(fc.boolean(), { minLength: BUDGET, maxLength: BUDGET }), async (docs, onOne) => {
        const viewer = await f.user();
        // The budget spent in any split over the two processes, then a new document on either is refused.
        for (const [i, query] of docs.slice(0, BUDGET).entries()) expectData(await post(onOne[i] ? one : two, viewer, { query }));
        expectOverBudget(await post(one, viewer, { query: docs[BUDGET] }));
        expectOverBudget(await post(two, viewer, { query: `${docs[BUDGET]} # on two` }));
      }),
      { numRuns: 6 },
    );
    // Each refusal is counted by the limit it met.
    const metrics = await rawRequest(one.url.replace(/\/graphql$/, '/metrics'), { method: 'GET' });
    expect(metrics.text).toMatch(/hub_limit_refusals_total\{limit="HUB_MAX_NEW_DOCUMENTS_PER_MINUTE"\} [1-9]/);
  });

  it('charges a hash alone whose document this process has not parsed, though another process registered it', async () => {
    const [registrar, viewer] = await Promise.all([f.user(), f.user()]);
    const docs = await Promise.all([0, 1].map(() => fc.sample(newDocuments(BUDGET), 1)[0])).then((parts) => parts.flat());
    // Another viewer registers 2 × BUDGET documents on process one, within their budgets.
    for (const [i, query] of docs.entries()) expectData(await post(one, i < BUDGET ? registrar : viewer, { query, extensions: apq(query) }));
    // On process two, the same hashes alone are new documents: BUDGET of them run, then 429.
    const viewerOnTwo = await f.user();
    for (const query of docs.slice(0, BUDGET)) expectData(await post(two, viewerOnTwo, { extensions: apq(query) }));
    expectOverBudget(await post(two, viewerOnTwo, { extensions: apq(docs[BUDGET]) }));
    // Those it parsed are cached there now: free, also by GET.
    expectData(await get(two, viewerOnTwo, { extensions: JSON.stringify(apq(docs[0])) }));
  });
});

describe('the budget when the shared window fails (a pool timeout, a lost answer under load)', () => {
  const LIMIT = { variable: 'HUB_MAX_NEW_DOCUMENTS_PER_MINUTE', perMinute: BUDGET, what: 'new documents', reason: 'NEW_DOCUMENT_RATE' };
  type Fault = 'none' | 'before' | 'after' | 'slow';
  const faults = fc.array(fc.constantFrom<Fault>('none', 'none', 'before', 'after', 'slow'), { minLength: BUDGET + 3, maxLength: BUDGET + 3 });

  it('never accepts more than the budget in a window in one process, charges one by one or all at once', async () => {
    await fc.assert(
      fc.asyncProperty(faults, fc.boolean(), async (plan, atOnce) => {
        // The real PostgreSQL window, with a fault injected into generated charges: before the
        // statement (nothing counted there), after it (counted, the answer lost), or late.
        const real = postgresWindows(one.dataSource);
        let next = 0;
        const faulty: SharedWindows = {
          async charge(...args) {
            const fault = plan[next++];
            if (fault === 'before') throw new Error('injected: the shared window is unreachable');
            if (fault === 'slow') await new Promise((resolve) => setTimeout(resolve, 30));
            const charge = await real.charge(...args);
            if (fault === 'after') throw new Error('injected: the answer was lost');
            return charge;
          },
        };
        const limits = new RequesterLimits({ shared: faulty });
        const key = `viewer:${randomUUID()}`;
        const chargeOnce = () => limits.charge(LIMIT, key).then(
          () => true,
          (error) => {
            if (!(error instanceof LimitExceeded)) throw error;
            return false;
          },
        );
        const accepted = atOnce ? await Promise.all(plan.map(chargeOnce)) : await plan.reduce<Promise<boolean[]>>(async (done, _) => [...(await done), await chargeOnce()], Promise.resolve([]));
        expect(accepted.filter(Boolean).length).toBeLessThanOrEqual(BUDGET);
        // Without a fault, one by one, the whole budget is given.
        if (!atOnce && plan.every((fault) => fault === 'none' || fault === 'slow')) expect(accepted).toEqual(plan.map((_, i) => i < BUDGET));
      }),
      { numRuns: 60 },
    );
  });
});

describe('FixedWindows (the per-process window of a per-minute limit)', () => {
  const MINUTE = 60_000;
  const events = fc.array(fc.record({ viewer: fc.constantFrom('a', 'b', 'c'), dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 70_000 })) }), { maxLength: 120 });
  const run = (perMinute: number, list: { viewer: string; dt: number }[]) => {
    const budget = new FixedWindows(perMinute);
    let now = 1_000_000;
    return list.map(({ viewer, dt }) => {
      now += dt;
      const accepted = budget.charge(viewer, now);
      return { viewer, now, accepted, retryAfter: budget.retryAfterSeconds(viewer, now) };
    });
  };

  it('refuses only a viewer who spent the budget in the last minute, and never lets one spend twice it in a minute', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), events, (perMinute, list) => {
        const results = run(perMinute, list);
        for (const [i, r] of results.entries()) {
          const recent = results.slice(0, i).filter((p) => p.viewer === r.viewer && p.accepted && r.now - p.now < MINUTE).length;
          if (!r.accepted) expect(recent).toBeGreaterThanOrEqual(perMinute);
          if (r.accepted) expect(recent).toBeLessThan(2 * perMinute);
          // retry-after: a charge that long after is accepted
          if (!r.accepted) {
            const replay = run(perMinute, [...list.slice(0, i + 1), { viewer: r.viewer, dt: r.retryAfter * 1000 }]);
            expect(replay[replay.length - 1].accepted).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("gives each viewer the same answers whatever other viewers do", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), events, (perMinute, list) => {
        const all = run(perMinute, list);
        // The same times, with only viewer a's charges.
        let now = 0;
        const timed = list.map((e) => ({ ...e, at: (now += e.dt) }));
        const alone = timed.filter((e) => e.viewer === 'a').map((e, i, arr) => ({ viewer: 'a', dt: i === 0 ? e.at : e.at - arr[i - 1].at }));
        expect(run(perMinute, alone).map((r) => r.accepted)).toEqual(all.filter((r) => r.viewer === 'a').map((r) => r.accepted));
      }),
      { numRuns: 300 },
    );
  });
});
