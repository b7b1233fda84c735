import fc from 'fast-check';
import { BatchStats } from '../../src/live/hub';
import { User } from '../../src/users/user.entity';
import { Session } from '../../src/sessions/session.entity';
import { useTestServer } from '../harness';
import { LiveWs, liveWs, Received, sleep, subscribed } from './support/clients';

/**
 * Issue 30, item 1: delivery work once per (document and variables, viewer scope, event), then
 * per subscriber only its frame. N subscribers sharing a document, its variables and a scope
 * cost one execution however many they are; subscribers of different scopes never share a
 * result: each receives exactly what the same selection answers as a query for its own viewer
 * (fast-check over viewers and documents, with a field whose answer differs between scopes).
 */

// A database of its own: on the shared one, other test files' writes would reach the admins.
const { t: server, f: made } = useTestServer({}, { ownDatabase: true });

/** A subscription document, its variables, and the query that answers its `session` selection. */
interface Doc {
  subscription: string;
  variables: Record<string, unknown>;
  query: string;
}

const SELECTIONS = [
  // `Skill.sessionCount` counts the sessions the viewer may see: 2 for an admin, 1 for the owner.
  '{ id title skills { id sessionCount } }',
  '{ title owner { id sessionCount } messageCount }',
  '{ id title }',
];
const DOCS: Doc[] = SELECTIONS.flatMap((selection) => [
  {
    subscription: `subscription { sessionChanged { sessionId session ${selection} } }`,
    variables: {},
    query: `query ($id: ID!) { session(id: $id) ${selection} }`,
  },
  // The same text with other variables is another document to share by.
  {
    subscription: `subscription ($f: SessionFilter) { sessionChanged(filter: $f) { sessionId session ${selection} } }`,
    variables: { f: { deleted: 'ALL' } },
    query: `query ($id: ID!) { session(id: $id) ${selection} }`,
  },
]);

/** Runs with sockets of its own, and waits until their subscribers are gone (so they do not
 * count in the next case's executions). */
async function withSockets<T>(run: (open: (token: string) => LiveWs) => Promise<T>): Promise<T> {
  const { hub } = server.server.live;
  const before = hub.subscriberCount;
  const sockets: LiveWs[] = [];
  try {
    return await run((token) => {
      const ws = liveWs(server.url, token);
      sockets.push(ws);
      return ws;
    });
  } finally {
    await Promise.all(sockets.map((ws) => ws.dispose()));
    const deadline = Date.now() + 10_000;
    while (hub.subscriberCount > before && Date.now() < deadline) await sleep(20);
  }
}

/** The batches `write` produced, once they settled. */
async function batchesOf(write: () => Promise<unknown>): Promise<BatchStats[]> {
  const batches: BatchStats[] = [];
  let last = Date.now();
  const stop = server.server.live.hub.observeBatches((b) => {
    batches.push(b);
    last = Date.now();
  });
  try {
    while (Date.now() - last < 200) await sleep(20);
    batches.length = 0;
    await write();
    const deadline = Date.now() + 20_000;
    while (batches.length === 0 && Date.now() < deadline) await sleep(10);
    last = Date.now();
    while (Date.now() - last < 200) await sleep(20);
    return batches;
  } finally {
    stop();
  }
}

const total = (batches: BatchStats[], field: 'executions' | 'deliveries' | 'statements') => batches.reduce((n, b) => n + b[field], 0);

describe('one execution per document, variables, viewer scope and event', () => {
  let owner: User;
  let session: Session;
  let admins: User[];
  beforeAll(async () => {
    owner = await made.user();
    session = await made.session(owner);
    admins = await Promise.all(Array.from({ length: 3 }, () => made.admin()));
  });

  const rename = (title: string) => server.gql('mutation ($id: ID!, $t: String!) { updateSession(id: $id, input: { title: $t }) { id } }', { id: session.id, t: title }, { as: owner });

  it('admin subscribers of one document cost one execution and the same statements, 1 or 40 of them', async () => {
    const statements: number[] = [];
    for (const n of [1, 12, 40]) {
      await withSockets(async (open) => {
        const base = server.server.live.hub.subscriberCount;
        const received: Received[] = [];
        for (let i = 0; i < n; i += 1) received.push(open(server.tokenFor(admins[i % admins.length])).subscribe(DOCS[0].subscription));
        await subscribed(server.server.live.hub, base + n);
        const batches = await batchesOf(() => rename(`shared ${n}`));
        expect(total(batches, 'executions')).toBe(1);
        expect(total(batches, 'deliveries')).toBe(n);
        statements.push(total(batches, 'statements'));
        await Promise.all(received.map((r) => r.waitFor(1)));
        // One result, serialized once: every subscriber received the same.
        expect(new Set(received.map((r) => JSON.stringify(r.results))).size).toBe(1);
      });
    }
    expect(statements[0]).toBeGreaterThan(0);
    expect(statements).toEqual([statements[0], statements[0], statements[0]]);
  });

  it('subscribers of one member share one execution; the member and the admins two', async () =>
    withSockets(async (open) => {
      const base = server.server.live.hub.subscriberCount;
      for (let i = 0; i < 5; i += 1) open(server.tokenFor(owner)).subscribe(DOCS[0].subscription);
      await subscribed(server.server.live.hub, base + 5);
      expect(total(await batchesOf(() => rename('owner only')), 'executions')).toBe(1);
      for (let i = 0; i < 5; i += 1) open(server.tokenFor(admins[i % admins.length])).subscribe(DOCS[0].subscription);
      await subscribed(server.server.live.hub, base + 10);
      const batches = await batchesOf(() => rename('owner and admins'));
      expect(total(batches, 'executions')).toBe(2);
      expect(total(batches, 'deliveries')).toBe(10);
    }));
});

describe('statements per batch follow the documents, not the viewers with events in it', () => {
  const FOLLOW = 'subscription ($id: ID!) { messageAdded(sessionId: $id) { cursor node { id content session { id messageCount } } } }';
  // A node filter: its condition is read for every session of the batch (`sessionLinks`).
  const CHANGES = 'subscription ($f: SessionFilter) { sessionChanged(filter: $f) { sessionId session { id title messageCount } } }';

  it('members each following their own session, with an admin: the same statements for 1 to 8 members (fast-check)', async () => {
    const admin = await made.admin();
    const counts = new Map<number, number[]>();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.boolean(), async (members, withChanges) => {
        const owners = await Promise.all(Array.from({ length: members }, () => made.user()));
        const sessions = await Promise.all(owners.map((o) => made.session(o)));
        await withSockets(async (open) => {
          const base = server.server.live.hub.subscriberCount;
          const received = sessions.map((s, i) => open(server.tokenFor(owners[i])).subscribe(FOLLOW, { id: s.id }));
          const watching = open(server.tokenFor(admin));
          for (const s of sessions) watching.subscribe(FOLLOW, { id: s.id });
          if (withChanges) for (const o of owners) open(server.tokenFor(o)).subscribe(CHANGES, { f: { nodeId: 'node-x' } });
          await subscribed(server.server.live.hub, base + 2 * members + (withChanges ? members : 0));
          // One statement posts a message to every session: one notification, one batch.
          const batches = await batchesOf(() =>
            server.dataSource.query(
              `INSERT INTO messages (session_id, role, content, created_at)
               SELECT s.id, 'USER', 'to all', hub_message_created_at(s.id) FROM sessions s WHERE s.id = ANY($1::uuid[])`,
              [sessions.map((s) => s.id)],
            ),
          );
          await Promise.all(received.map((r) => r.waitFor(1)));
          // Each member's result is its own (its session, its count), the admin's the same rows.
          received.forEach((r, i) => expect(r.results[0]).toMatchObject({ data: { messageAdded: { node: { session: { id: sessions[i].id, messageCount: 1 } } } } }));
          expect(batches).toHaveLength(1);
          const key = withChanges ? 1 : 0;
          counts.set(key, [...(counts.get(key) ?? []), batches[0].statements]);
        });
      }),
      { numRuns: 12, examples: [[1, false], [8, false], [1, true], [8, true]] },
    );
    // Before: one message read and one relations statement per member scope (2 + 2 per member).
    for (const list of counts.values()) expect(new Set(list)).toEqual(new Set([list[0]]));
    expect(counts.get(0)![0]).toBe(2);
  });
});

describe('appends of many members streaming at once', () => {
  const CHANGES = 'subscription ($id: ID!) { messageChanged(sessionId: $id) { kind messageId delta offset } }';
  const POST = 'mutation ($s: ID!) { postMessage(input: { sessionId: $s, role: ASSISTANT, content: "", status: STREAMING }) { id } }';
  const APPEND = 'mutation ($id: ID!, $delta: String!, $offset: Int!) { appendMessageContent(id: $id, delta: $delta, offset: $offset) { id } }';

  it('cost one statement per batch (the appended texts), whatever the number of members (fast-check)', async () => {
    const admin = await made.admin();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 8 }), async (members) => {
        const owners = await Promise.all(Array.from({ length: members }, () => made.user()));
        const sessions = await Promise.all(owners.map((o) => made.session(o)));
        const ids = await Promise.all(sessions.map(async (s, i) => (await server.gql(POST, { s: s.id }, { as: owners[i] })).data.postMessage.id as string));
        await withSockets(async (open) => {
          const base = server.server.live.hub.subscriberCount;
          const received = sessions.map((s, i) => open(server.tokenFor(owners[i])).subscribe(CHANGES, { id: s.id }));
          const watching = open(server.tokenFor(admin));
          for (const s of sessions) watching.subscribe(CHANGES, { id: s.id });
          await subscribed(server.server.live.hub, base + 2 * members);
          const batches = await batchesOf(() => Promise.all(ids.map((id, i) => server.gql(APPEND, { id, delta: `delta ${i}`, offset: 0 }, { as: owners[i] }))));
          await Promise.all(received.map((r) => r.waitFor(1)));
          received.forEach((r, i) => expect(r.results[0]).toMatchObject({ data: { messageChanged: { kind: 'UPDATED', messageId: ids[i], delta: `delta ${i}`, offset: 0 } } }));
          // However the appends fell into batches: one statement each (before: one per member scope).
          expect(batches.map((b) => b.statements)).toEqual(batches.map(() => 1));
        });
      }),
      { numRuns: 6, examples: [[8]] },
    );
  });
});

describe('different scopes never share a result', () => {
  it('each subscriber receives what its own viewer’s query answers; executions are the distinct (document, scope) pairs', async () => {
    // Two members' sessions share a skill: its sessionCount is 2 for an admin, 1 for the owner.
    const [a, b] = await Promise.all([made.user(), made.user()]);
    const admins = await Promise.all([made.admin(), made.admin()]);
    const skill = await made.skill();
    const [mine, theirs] = await Promise.all([made.session(a), made.session(b)]);
    await Promise.all([made.link(mine, skill), made.link(theirs, skill)]);
    const viewers = { a, b, admin0: admins[0], admin1: admins[1] };
    type Name = keyof typeof viewers;
    const subscriberArb = fc.record({ viewer: fc.constantFrom<Name>('a', 'b', 'admin0', 'admin1'), doc: fc.nat(DOCS.length - 1) });
    let round = 0;

    await fc.assert(
      fc.asyncProperty(fc.array(subscriberArb, { minLength: 1, maxLength: 8 }), fc.boolean(), async (subscribers, byMember) =>
        withSockets(async (open) => {
          round += 1;
          const base = server.server.live.hub.subscriberCount;
          const received = subscribers.map(({ viewer, doc }) => open(server.tokenFor(viewers[viewer])).subscribe(DOCS[doc].subscription, DOCS[doc].variables));
          await subscribed(server.server.live.hub, base + subscribers.length);
          const title = `round ${round}`;
          const batches = await batchesOf(() =>
            server.gql('mutation ($id: ID!, $t: String!) { updateSession(id: $id, input: { title: $t }) { id } }', { id: mine.id, t: title }, { as: byMember ? a : admins[0] }),
          );
          // Who may see `mine`: its owner and the admins; b receives nothing.
          const reached = subscribers.map((s, i) => ({ ...s, i })).filter((s) => s.viewer !== 'b');
          const scopes = new Set(reached.map((s) => `${s.doc} ${s.viewer === 'a' ? 'a' : 'admin'}`));
          expect(total(batches, 'executions')).toBe(scopes.size);
          expect(total(batches, 'deliveries')).toBe(reached.length);
          await Promise.all(reached.map((s) => received[s.i].waitFor(1)));
          await sleep(50);
          const answers = new Map<string, unknown>();
          for (const [i, s] of subscribers.entries()) {
            const { results } = received[i];
            if (s.viewer === 'b') {
              expect(results).toEqual([]);
              continue;
            }
            const key = `${s.doc} ${s.viewer}`;
            if (!answers.has(key)) {
              const answer = await server.gql(DOCS[s.doc].query, { id: mine.id }, { as: viewers[s.viewer] });
              expect(answer.errors).toBeUndefined();
              answers.set(key, answer.data.session);
            }
            expect(results).toHaveLength(1);
            expect(results[0].errors).toBeUndefined();
            expect(results[0].data.sessionChanged).toEqual({ sessionId: mine.id, session: answers.get(key) });
          }
        }),
      ),
      { numRuns: 25 },
    );
  }, 240_000);
});
