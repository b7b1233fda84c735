/**
 * Resource fuzz, #21.2: response amplification. One member holds 200 messages of 32,000 `\u0001`
 * (six bytes each in JSON) and asks, four at a time, for the amplifying shapes: one message under
 * `nodes(ids:)` with its id repeated and the field aliased, pages of contents under aliases, its
 * session repeated in `nodes(ids:)` with pages of messages. Before: 307 MB answers, RSS +866 MB,
 * `RangeError: Invalid string length` as a 500, others at p99 3.7 s. Now long texts count in the
 * cost, and an answer over HUB_MAX_RESPONSE_BYTES is replaced by a coded error before it is built.
 * Those refused as too large still read their pages in full first, and four at once put the
 * bystander's p99 over 1 s in two runs of three: every shape here can pass the limit, so each is a
 * heavy request, and the member's four run one at a time (HUB_MAX_HEAVY_REQUESTS_PER_VIEWER).
 */
import fc from 'fast-check';
import { Message, MessageRole } from '../../../src/messages/message.entity';
import { Session } from '../../../src/sessions/session.entity';
import { User } from '../../../src/users/user.entity';
import { tally } from '../support/figures';
import { request } from '../support/http';
import { bounded, expectWithinBounds, outcomeOf, ResourceServer, runResourceClass, startResourceServer } from './support/resource-run';

const MESSAGES = 200;
const REQUESTS = 60;

let server: ResourceServer;
let attacker: User;
let bystander: User;
let session: Session;
const messageIds: string[] = [];
beforeAll(async () => {
  server = await startResourceServer();
  [attacker, bystander] = await Promise.all([server.f.user(), server.f.user()]);
  session = await server.f.session(attacker);
  const repo = server.dataSource.getRepository(Message);
  const content = '\u0001'.repeat(32_000);
  for (let i = 0; i < MESSAGES; i += 20) {
    const saved = await repo.save(Array.from({ length: 20 }, () => repo.create({ sessionId: session.id, role: MessageRole.USER, content })));
    messageIds.push(...saved.map((m) => m.id));
  }
}, 120_000);
afterAll(() => server?.close());

/** The field selected k times: once as itself, then under aliases (the limit is 15). */
const selected = (k: number, field: string) => Array.from({ length: k }, (_, i) => (i === 0 ? field : `a${i}: ${field}`)).join(' ');

const shapes = fc.oneof(
  fc.record({ k: fc.integer({ min: 8, max: 16 }), r: fc.integer({ min: 50, max: 100 }) }).map(({ k, r }) => ({
    query: `query ($ids: [ID!]!) { ${selected(k, 'nodes(ids: $ids) { ... on Message { content } }')} }`,
    variables: { ids: Array(r).fill(messageIds[0]) },
  })),
  fc.record({ k: fc.integer({ min: 4, max: 16 }), n: fc.integer({ min: 50, max: 100 }) }).map(({ k, n }) => ({
    query: `query ($s: ID!, $n: Int) { ${selected(k, 'session(id: $s) { messages(first: $n) { nodes { content } } }')} }`,
    variables: { s: session.id, n },
  })),
  fc.record({ r: fc.integer({ min: 10, max: 100 }), n: fc.integer({ min: 20, max: 100 }) }).map(({ r, n }) => ({
    query: `query ($ids: [ID!]!, $n: Int) { nodes(ids: $ids) { ... on Session { messages(first: $n) { nodes { content } } } } }`,
    variables: { ids: Array(r).fill(session.id), n },
  })),
);

test('amplifying queries from one member: no 5xx, answers bounded, memory and bystander within bounds', async () => {
  const token = server.tokenFor(attacker);
  const cases = fc.sample(shapes, REQUESTS);
  let largestAnswer = 0;
  const figures = await runResourceClass({
    name: 'response-amplification',
    server,
    bystander,
    rssBoundMb: 250,
    attack: async () => {
      const answers = await bounded(REQUESTS, 4, 45_000, (i) =>
        request(server.child.graphqlUrl, { headers: { authorization: `Bearer ${token}` }, body: cases[i], timeoutMs: 30_000 }),
      );
      largestAnswer = Math.max(...answers.map((a) => Buffer.byteLength(a.text ?? '')));
      return { requests: answers.length, outcomes: { ...tally(answers.map(outcomeOf)), largestAnswerBytes: largestAnswer } };
    },
  });
  expectWithinBounds(figures);
  expect(figures.requests).toBe(REQUESTS);
  expect(Object.keys(figures.outcomes).filter((k) => /^5|network/.test(k))).toEqual([]);
  expect(largestAnswer).toBeLessThanOrEqual(10 * 1024 * 1024);
});
