import fc from 'fast-check';
import { lockSession } from '../../src/consistency/locks';
import { Message, MessageRole } from '../../src/messages/message.entity';
import { useTestServer } from '../harness';
import { liveSse, liveWs, Received, sleep } from './support/clients';

/**
 * `messageAdded(sessionId, after)` promises that a client resuming from its last cursor misses
 * nothing and gets nothing twice. The class of defect: a message that commits after another but
 * sorts before it (its transaction started first and then waited for the session's lock, or it
 * shares the other's millisecond and has a smaller id); a client that had the later one resumes
 * past the earlier one. Generated here: writers to one session that take the session's lock at
 * random moments of their transactions (the API's postMessage, a writer that starts its
 * transaction and then waits, a blocker that holds the lock while others queue) against a
 * subscriber that disconnects after random numbers of messages and resumes with `after` over
 * either transport.
 */

const { t, f } = useTestServer();

const MESSAGE_ADDED = `subscription ($sessionId: ID!, $after: String) {
  messageAdded(sessionId: $sessionId, after: $after) { cursor node { id } }
}`;
const POST = 'mutation ($input: PostMessageInput!) { postMessage(input: $input) { id } }';

type Writer =
  | { kind: 'api'; startMs: number }
  | { kind: 'late'; startMs: number; waitMs: number }
  | { kind: 'blocker'; startMs: number; holdMs: number };

const writer: fc.Arbitrary<Writer> = fc.oneof(
  fc.record({ kind: fc.constant('api' as const), startMs: fc.nat(60) }),
  fc.record({ kind: fc.constant('late' as const), startMs: fc.nat(60), waitMs: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('blocker' as const), startMs: fc.nat(60), holdMs: fc.integer({ min: 1, max: 40 }) }),
);

/** One connection of the subscriber: how many messages it takes before it drops, how long the
 * client stays away, and over which transport it comes back. */
const connection = fc.record({ take: fc.integer({ min: 1, max: 6 }), awayMs: fc.nat(40), transport: fc.constantFrom('ws' as const, 'sse' as const) });

interface Edge {
  cursor: string;
  node: { id: string };
}

it('delivers every committed message exactly once, in order, across random disconnects and resumes', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(writer, { minLength: 4, maxLength: 16 }), fc.array(connection, { minLength: 1, maxLength: 4 }), async (writers, connections) => {
      const owner = await f.user();
      const viewer = { id: owner.id, isAdmin: false };
      const session = await f.session(owner);
      await f.message(session, { content: 'before the subscriber' });
      const page = await t.gql('query ($id: ID!) { session(id: $id) { messages(first: 1) { pageInfo { endCursor } } } }', { id: session.id }, { as: owner });
      let after: string = page.data.session.messages.pageInfo.endCursor;

      let written = 0;
      const write = async (w: Writer) => {
        await sleep(w.startMs);
        if (w.kind === 'api') {
          const posted = await t.gql(POST, { input: { sessionId: session.id, role: 'USER', content: 'api' } }, { as: owner });
          expect(posted.errors).toBeUndefined();
        } else if (w.kind === 'late') {
          // Starts its transaction now, takes the lock later: the post that "started earlier".
          await t.dataSource.transaction(async (manager) => {
            await manager.query('SELECT 1');
            await sleep(w.waitMs);
            await lockSession(manager, viewer, session.id, 'live');
            await manager.save(manager.create(Message, { sessionId: session.id, role: MessageRole.USER, content: 'late' }));
          });
        } else {
          // Holds the lock while the others queue behind it (and then post in some order).
          await t.dataSource.transaction(async (manager) => {
            await lockSession(manager, viewer, session.id, 'live');
            await sleep(w.holdMs);
          });
          return;
        }
        written += 1;
      };
      const writing = Promise.all(writers.map(write));
      let writersDone = false;
      void writing.then(() => (writersDone = true), () => (writersDone = true));
      const expectedWrites = writers.filter((w) => w.kind !== 'blocker').length;

      const delivered: Edge[] = [];
      const open = (transport: 'ws' | 'sse') => {
        const client = transport === 'ws' ? liveWs(t.url, t.tokenFor(owner)) : liveSse(t.url, t.tokenFor(owner));
        const received: Received<{ messageAdded: Edge }> = client.subscribe(MESSAGE_ADDED, { sessionId: session.id, after });
        return { client, received };
      };
      const close = async (live: ReturnType<typeof open>) => {
        live.received.stop();
        await live.client.dispose();
        const edges = live.received.results.map((r) => {
          expect(r.errors).toBeUndefined();
          return r.data!.messageAdded;
        });
        delivered.push(...edges);
        if (edges.length) after = edges[edges.length - 1].cursor;
      };

      try {
        // Each connection drops after `take` more messages (or when every writer is done).
        let transport: 'ws' | 'sse' = 'ws';
        for (const c of connections) {
          const live = open(transport);
          const deadline = Date.now() + 20_000;
          while (live.received.results.length < c.take && !(writersDone && delivered.length + live.received.results.length >= written)) {
            if (Date.now() > deadline || live.received.error) throw new Error(`connection stalled: ${JSON.stringify(live.received.error)}`);
            await sleep(2);
          }
          await close(live);
          await sleep(c.awayMs);
          transport = c.transport;
        }
        // The last connection stays until everything written has arrived, and a little longer
        // (a duplicate would arrive then).
        const live = open(transport);
        try {
          await writing;
          expect(written).toBe(expectedWrites);
          const deadline = Date.now() + 20_000;
          while (delivered.length + live.received.results.length < written) {
            if (Date.now() > deadline || live.received.error) break;
            await sleep(5);
          }
          await sleep(150);
        } finally {
          await close(live);
        }
      } finally {
        await writing.catch(() => undefined);
      }

      const stored: { id: string }[] = await t.dataSource.query(
        `SELECT id FROM messages WHERE session_id = $1 ORDER BY created_at, id OFFSET 1`,
        [session.id],
      );
      expect(delivered.map((e) => e.node.id)).toEqual(stored.map((r) => r.id));
    }),
    { numRuns: 20 },
  );
}, 300_000);
