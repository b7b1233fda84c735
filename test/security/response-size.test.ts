/**
 * Response amplification (#21.2): answers are bounded in bytes, not only in objects. Generated
 * documents of the amplifying shapes (one long message under `nodes(ids:)` repeated and aliased,
 * pages of long contents under aliases, a session's pages repeated through `nodes(ids:)`, node sync
 * errors) run against messages of 32,000 characters that JSON inflates (`\u0001` is six bytes,
 * CJK three, quotes two): every answer is an answer within the cost model's byte promise, a
 * refusal for cost, or a coded RESPONSE_TOO_LARGE in place of the answer, and never more than
 * HUB_MAX_RESPONSE_BYTES on the wire; never a 5xx. `jsonSize` counts what JSON.stringify would
 * write, exactly, without writing it. `Session.nodeSync` is bounded by HUB_MAX_NODES_PER_SESSION.
 */
import fc from 'fast-check';
import { jsonSize } from '../../src/http/response-size';
import { Message, MessageRole } from '../../src/messages/message.entity';
import { SyncStatus } from '../../src/node-sync/node-sync.entity';
import { Session } from '../../src/sessions/session.entity';
import { User } from '../../src/users/user.entity';
import { useTestServer } from '../harness';
import { rawRequest } from '../support/raw-http';

const MAX_BYTES = 300_000;
const MAX_NODES = 5;
const { t, f } = useTestServer({ HUB_MAX_RESPONSE_BYTES: String(MAX_BYTES), HUB_MAX_NODES_PER_SESSION: String(MAX_NODES), HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '100000' });
/** What one cost unit may hold: 1,024 characters of JSON-escaped text (six bytes each), or an object's few fields. */
const BYTES_PER_UNIT = 1024 * 6;

const LONG = {
  control: '\u0001'.repeat(32_000),
  cjk: '漢'.repeat(32_000),
  quotes: '"'.repeat(32_000),
  mixed: Array.from({ length: 32_000 }, (_, i) => ['\u0001', 'é', 'a', '\\', '😀'][i % 5]).join('').slice(0, 32_000),
};
let member: User;
let session: Session;
const messageIds: string[] = [];

beforeAll(async () => {
  member = await f.user();
  session = await f.session(member);
  const repo = t.dataSource.getRepository(Message);
  const contents = [...Object.values(LONG), ...Object.values(LONG), 'short', 'x'.repeat(1000)];
  for (const content of contents) messageIds.push((await repo.save(repo.create({ sessionId: session.id, role: MessageRole.USER, content }))).id);
  for (let i = 0; i < MAX_NODES; i += 1) await f.nodeSync(session, `node-${i}`, SyncStatus.FAILED, '\u0001'.repeat(10_000));
}, 60_000);

/** The field selected k times: once as itself, then under k - 1 aliases (the limit is 15). */
const aliases = (k: number, field: string) => Array.from({ length: k }, (_, i) => (i === 0 ? field : `a${i}: ${field}`)).join(' ');

/** A session's page of `n` contents under `nodes(ids:)`, the session repeated `r` times. */
const repeatedSession = (r: number, n: number) => ({
  shape: 'repeated session in nodes(ids:)',
  query: `query ($ids: [ID!]!, $n: Int) { nodes(ids: $ids) { ... on Session { messages(first: $n) { nodes { content } } } } }`,
  variables: { ids: Array(r).fill(session.id), n },
});

/** The amplifying shapes of the report, with generated sizes. */
const shapes = fc.oneof(
  // Small reads, so that every run has answers beside its refusals (the check after the property).
  fc.record({ k: fc.integer({ min: 1, max: 4 }) }).map(({ k }) => ({
    shape: 'a few titles',
    query: `query ($s: ID!) { ${aliases(k, 'session(id: $s) { title }')} }`,
    variables: { s: session.id },
  })),
  fc.record({ k: fc.integer({ min: 1, max: 16 }), r: fc.integer({ min: 1, max: 100 }), m: fc.nat() }).map(({ k, r, m }) => ({
    shape: 'repeated message in nodes(ids:)',
    query: `query ($ids: [ID!]!) { ${aliases(k, 'nodes(ids: $ids) { ... on Message { id content } }')} }`,
    variables: { ids: Array(r).fill(messageIds[m % messageIds.length]) },
  })),
  fc.record({ k: fc.integer({ min: 1, max: 16 }), n: fc.integer({ min: 1, max: 100 }) }).map(({ k, n }) => ({
    shape: 'aliased pages of contents',
    query: `query ($s: ID!, $n: Int) { ${aliases(k, 'session(id: $s) { messages(first: $n) { nodes { content } } }')} }`,
    variables: { s: session.id, n },
  })),
  fc.record({ r: fc.integer({ min: 1, max: 100 }), n: fc.integer({ min: 1, max: 100 }) }).map(({ r, n }) => repeatedSession(r, n)),
  fc.record({ k: fc.integer({ min: 1, max: 16 }) }).map(({ k }) => ({
    shape: 'node sync errors and last messages',
    query: `query ($s: ID!) { ${aliases(k, 'session(id: $s) { nodeSync { nodeId error } lastMessage { content } }')} }`,
    variables: { s: session.id },
  })),
);

describe('answers bounded in bytes', () => {
  it('are within the cost model, refused for cost, or replaced by RESPONSE_TOO_LARGE; never over the limit, never a 5xx', async () => {
    const outcomes: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(shapes, async ({ shape, query, variables }) => {
        const answer = await rawRequest(t.url, {
          headers: { 'content-type': 'application/json', authorization: `Bearer ${t.tokenFor(member)}` },
          body: JSON.stringify({ query, variables }),
        });
        const bytes = Buffer.byteLength(answer.text);
        expect(answer.status).toBeLessThan(500);
        expect(bytes).toBeLessThanOrEqual(MAX_BYTES);
        const error = answer.json?.errors?.[0];
        const outcome = error ? String(error.extensions?.reason) : 'answered';
        outcomes[`${shape}: ${outcome}`] = (outcomes[`${shape}: ${outcome}`] ?? 0) + 1;
        if (!error) {
          expect(answer.status).toBe(200);
          // The cost model's promise: what an answer holds is bounded by its cost.
          expect(bytes).toBeLessThanOrEqual(Number(answer.headers['x-query-cost']) * BYTES_PER_UNIT);
        } else {
          expect(answer.json.errors).toHaveLength(1);
          expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', validation: [{ field: 'query' }] });
          expect(['QUERY_COST', 'RESPONSE_TOO_LARGE']).toContain(error.extensions.reason);
          expect(answer.status).toBe(400);
          if (error.extensions.reason === 'RESPONSE_TOO_LARGE') {
            expect(error.extensions).toMatchObject({ limit: 'HUB_MAX_RESPONSE_BYTES', maxBytes: MAX_BYTES });
            expect(answer.json.data).toBeNull();
          }
        }
      }),
      // Six that the cost limit refuses whatever is drawn (at least 20 × 100 contents of 32 units
      // against the default 50,000), so a run never misses that kind by chance.
      { numRuns: 120, examples: [20, 40, 60, 80, 90, 100].map((r) => [repeatedSession(r, 100)] as [ReturnType<typeof repeatedSession>]) },
    );
    // Not vacuous: each kind of outcome happened.
    const total = (reason: string) => Object.entries(outcomes).filter(([k]) => k.endsWith(reason)).reduce((n, [, v]) => n + v, 0);
    expect({ answered: total(': answered') > 5, cost: total('QUERY_COST') > 5, tooLarge: total('RESPONSE_TOO_LARGE') > 5 }).toEqual({ answered: true, cost: true, tooLarge: true });
  }, 300_000);

  it('tells a mutation whose answer is too large that it was applied', async () => {
    const own = await f.session(member);
    const repo = t.dataSource.getRepository(Message);
    for (let i = 0; i < 12; i += 1) await repo.save(repo.create({ sessionId: own.id, role: MessageRole.USER, content: LONG.control }));
    const result = await t.gql(
      `mutation ($s: ID!) { postMessage(input: { sessionId: $s, role: USER, content: "the last one" }) { id session { messages(first: 20) { nodes { content } } } } }`,
      { s: own.id },
      { as: member },
    );
    expect(result.status).toBe(200);
    expect(result.data).toBeNull();
    expect(result.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'RESPONSE_TOO_LARGE', limit: 'HUB_MAX_RESPONSE_BYTES' });
    expect(result.errors![0].message).toMatch(/was applied/);
    const [{ count }] = await t.dataSource.query(`SELECT count(*)::int AS count FROM messages WHERE session_id = $1 AND content = 'the last one'`, [own.id]);
    expect(count).toBe(1);
  });
});

describe('jsonSize', () => {
  const text = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('\u0001', '"', '\\', '\n', 'é', '漢', '\ud83d', '\ude00', 'a') }));
  const json = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, text, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 5 }),
    object: fc.dictionary(text, tie('value'), { maxKeys: 5 }),
  })).value;

  it('is exactly the UTF-8 length of JSON.stringify, and passes any limit exactly when that length does', () => {
    fc.assert(
      fc.property(json, fc.nat({ max: 400 }), (value, limit) => {
        const actual = Buffer.byteLength(JSON.stringify(value));
        expect(jsonSize(value)).toBe(actual);
        expect(jsonSize(value, limit) > limit).toBe(actual > limit);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('Session.nodeSync', () => {
  it('holds at most HUB_MAX_NODES_PER_SESSION nodes: one more is refused with the limit named, known nodes still report', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), { minLength: MAX_NODES + 1, maxLength: MAX_NODES + 4 }), async (nodes) => {
        const own = await f.session(member);
        const report = (nodeId: string) =>
          t.gql(`mutation ($i: ReportNodeSyncInput!) { reportNodeSync(input: $i) { nodeSync { nodeId } } }`, { i: { sessionId: own.id, nodeId, status: 'SYNCED' } }, { as: member });
        for (const nodeId of nodes.slice(0, MAX_NODES)) expect((await report(nodeId)).errors).toBeUndefined();
        for (const nodeId of nodes.slice(MAX_NODES)) {
          const refused = await report(nodeId);
          expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'HUB_MAX_NODES_PER_SESSION', validation: [{ field: 'nodeId' }] });
        }
        const again = await report(nodes[0]);
        expect(again.errors).toBeUndefined();
        expect(again.data.reportNodeSync.nodeSync).toHaveLength(MAX_NODES);
      }),
      { numRuns: 10 },
    );
  });
});
