/**
 * Group commit of appends (issue 28's bench row, src/messages/append-queue.ts): appends that
 * arrive while another commits are written by one transaction, and each is still checked and
 * answered on its own. To make a group of a known size, a first append is held on its session's
 * lock (taken here) until the others have queued behind it; then they commit together.
 */
import fc from 'fast-check';
import { Client } from 'pg';
import { appendQueueOf, GroupFigures } from '../../src/messages/append-queue';
import { Message, MessageStatus } from '../../src/messages/message.entity';
import { User } from '../../src/users/user.entity';
import { codes, GqlResult, useTestServer } from '../harness';
import { DELETE_MESSAGE, DELETE_SESSION } from './documents';

// A database of its own: the failure test puts a trigger on its messages table.
const { t, f } = useTestServer({}, { invariants: true, ownDatabase: true });

const APPEND = `mutation($id: ID!, $delta: String!, $offset: Int!) {
  appendMessageContent(id: $id, delta: $delta, offset: $offset) { id content status session { id updatedAt } }
}`;

const url = () => (t.dataSource.options as { url: string }).url;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; !condition(); await sleep(2)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

/** The groups the queue ran while `fn` did. */
async function observing<T>(fn: () => Promise<T>): Promise<{ result: T; groups: GroupFigures[] }> {
  const groups: GroupFigures[] = [];
  const stop = appendQueueOf(t.dataSource).observe((g) => groups.push(g));
  try {
    return { result: await fn(), groups };
  } finally {
    stop();
  }
}

/**
 * Sends `sends` at once behind a first append held on its session's lock, so that all of them
 * queue while it commits and then commit together (as far as the queue groups them: one append
 * per message a group). Returns their answers, in order.
 */
async function together(sends: (() => Promise<GqlResult>)[]): Promise<GqlResult[]> {
  const owner = await f.user();
  const session = await f.session(owner);
  const first = await f.message(session, { status: MessageStatus.STREAMING, content: '' });
  const queue = appendQueueOf(t.dataSource);
  const holder = new Client({ connectionString: url() });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [session.id]);
    const held = t.gql(APPEND, { id: first.id, delta: '.', offset: 0 }, { as: owner });
    await until(() => queue.state().committing, 'the first append to be committing');
    const answers = Promise.all(sends.map((send) => send()));
    await until(() => queue.state().waiting === sends.length, 'the appends to queue');
    await holder.query('COMMIT');
    expect((await held).errors).toBeUndefined();
    return await answers;
  } finally {
    await holder.end();
  }
}

/** `hub_live` notifications received while `fn` ran (and a moment after, for the last commit's). */
async function listening<T>(fn: () => Promise<T>): Promise<{ result: T; payloads: string[] }> {
  const listener = new Client({ connectionString: url() });
  await listener.connect();
  const payloads: string[] = [];
  listener.on('notification', (n) => payloads.push(n.payload ?? ''));
  try {
    await listener.query('LISTEN hub_live');
    const result = await fn();
    await sleep(100);
    return { result, payloads };
  } finally {
    await listener.end();
  }
}

const length = (text: string) => [...text].length;

type Kind = 'owner' | 'admin' | 'stale' | 'ahead' | 'finished' | 'deleted' | 'inDeletedSession' | 'stranger' | 'tooLong';
const KINDS: Kind[] = ['owner', 'admin', 'stale', 'ahead', 'finished', 'deleted', 'inDeletedSession', 'stranger', 'tooLong'];

describe('appends committed together', () => {
  /**
   * Each append of a group meets its own message in its own state; the answer each gets is the
   * one a lone append gets (its content, CONFLICT with `length` or `status`, NOT_FOUND,
   * BAD_USER_INPUT), the refused ones change nothing and fail no other, two appends at one offset
   * of one message are one accepted and one CONFLICT. The database sees one transaction for the
   * group: its statements do not grow with it, one notification carries several appends, each
   * announced once with its own offset and length, every payload under 8,000 bytes, and the
   * messages of one session get distinct clock stamps.
   */
  it('answer each append on its own and write the group in one transaction of a fixed number of statements', async () => {
    const item = fc.record({
      kind: fc.constantFrom(...KINDS),
      session: fc.nat(2),
      before: fc.string({ unit: fc.constantFrom('a', 'é', '😀'), maxLength: 6 }),
      delta: fc.string({ unit: fc.constantFrom('b', ' ', '😀'), minLength: 1, maxLength: 30 }),
    });
    let largest = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 2, maxLength: 12 }), fc.boolean(), async (items, duplicate) => {
        const [owner, stranger, admin] = [await f.user(), await f.user(), await f.admin()];
        const sessions = [await f.session(owner), await f.session(owner), await f.session(owner)];
        const doomed = await f.session(owner);
        const cases: { kind: Kind; id: string; sessionId: string; content: string; delta: string; offset: number; as: User }[] = [];
        for (const { kind, session, before, delta } of items) {
          const content = kind === 'tooLong' ? 'x'.repeat(32_000 - length(delta) + 1) : before;
          const status = kind === 'finished' ? MessageStatus.COMPLETE : MessageStatus.STREAMING;
          const message = await f.message(kind === 'inDeletedSession' ? doomed : sessions[session], { status, content });
          if (kind === 'deleted') expect((await t.gql(DELETE_MESSAGE, { id: message.id }, { as: owner })).errors).toBeUndefined();
          const n = length(content);
          // Behind the end (a retry of an append that landed), or past it (a gap).
          const offset = kind === 'stale' ? (n > 0 ? n - 1 : n + 2) : kind === 'ahead' ? n + 1 : n;
          const as: User = kind === 'admin' ? admin : kind === 'stranger' ? stranger : owner;
          cases.push({ kind, id: message.id, sessionId: message.sessionId, content, delta, offset, as });
        }
        expect((await t.gql(DELETE_SESSION, { id: doomed.id }, { as: owner })).errors).toBeUndefined();
        // Two appends at one offset of one message: the group takes one, the next group refuses the other.
        const twin = cases.find((c) => c.kind === 'owner');
        const sends = cases.map((c) => () => t.gql(APPEND, { id: c.id, delta: c.delta, offset: c.offset }, { as: c.as }));
        if (duplicate && twin) sends.push(() => t.gql(APPEND, { id: twin.id, delta: 'twin', offset: twin.offset }, { as: owner }));

        const { result: heard, groups } = await observing(() => listening(() => together(sends)));
        const answers = heard.result;

        const accepted: { id: string; offset: number; length: number }[] = [];
        const expected = new Map(cases.map((c) => [c.id, c.content]));
        cases.forEach((c, i) => {
          const answer = answers[i];
          switch (c.kind) {
            case 'owner':
            case 'admin':
              if (duplicate && c === twin && answer.errors) {
                expect(codes(answer)).toEqual(['CONFLICT']);
                expect(answer.errors[0].extensions!.length).toBe(length(c.content) + length('twin'));
                return;
              }
              expect(answer.errors).toBeUndefined();
              expect(answer.data.appendMessageContent).toMatchObject({ id: c.id, content: c.content + c.delta, status: 'STREAMING', session: { id: c.sessionId } });
              accepted.push({ id: c.id, offset: c.offset, length: length(c.delta) });
              expected.set(c.id, c.content + c.delta);
              return;
            case 'stale':
            case 'ahead':
              expect(codes(answer)).toEqual(['CONFLICT']);
              expect(answer.errors![0].extensions!.length).toBe(length(c.content));
              return;
            case 'finished':
              expect(codes(answer)).toEqual(['CONFLICT']);
              expect(answer.errors![0].extensions!.status).toBe('COMPLETE');
              return;
            case 'tooLong':
              expect(codes(answer)).toEqual(['BAD_USER_INPUT']);
              return;
            default:
              expect(codes(answer)).toEqual(['NOT_FOUND']);
          }
        });
        if (duplicate && twin) {
          const answer = answers[cases.length];
          const twinWon = !answer.errors;
          // Exactly one of the two was accepted, and the other was told the length the winner left.
          expect(twinWon).toBe(accepted.every((a) => a.id !== twin.id));
          if (twinWon) {
            expect(answer.data.appendMessageContent.content).toBe(twin.content + 'twin');
            accepted.push({ id: twin.id, offset: twin.offset, length: length('twin') });
            expected.set(twin.id, twin.content + 'twin');
          } else {
            expect(codes(answer)).toEqual(['CONFLICT']);
            expect(answer.errors![0].extensions!.length).toBe(length(twin.content) + length(twin.delta));
          }
        }

        const rows: { id: string; content: string }[] = await t.dataSource.query('SELECT id, content FROM messages WHERE id = ANY($1)', [cases.map((c) => c.id)]);
        expect(new Map(rows.map((r) => [r.id, r.content]))).toEqual(expected);

        // The group: one transaction, five statements with BEGIN and COMMIT (three when it wrote nothing).
        const group = groups.find((g) => g.appends === new Set(cases.map((c) => c.id)).size);
        expect(group).toBeDefined();
        for (const g of groups) expect(g.statements).toBe(g.accepted > 0 ? 5 : 3);
        largest = Math.max(largest, group!.appends);

        // Announced once each, with its own offset and length; several in one notification.
        const mine = new Set(cases.map((c) => c.id));
        const announced: { id: string; offset: number; length: number }[] = [];
        let inOne = 0;
        for (const payload of heard.payloads) {
          expect(Buffer.byteLength(payload)).toBeLessThan(8000);
          const entries = (JSON.parse(payload).e as unknown[][]).filter((e) => e[0] === 'G' && mine.has(e[1] as string));
          announced.push(...entries.map((e) => ({ id: e[1] as string, offset: e[5] as number, length: e[6] as number })));
          inOne = Math.max(inOne, entries.length);
        }
        const order = (a: { id: string; offset: number }, b: { id: string; offset: number }) => a.id.localeCompare(b.id) || a.offset - b.offset;
        expect(announced.sort(order)).toEqual([...accepted].sort(order));
        if (accepted.length > 1) expect(inOne).toBeGreaterThan(1);

        // One session's messages stamped in one statement still take distinct places on its clock.
        const stamps: { session_id: string; n: string; distinct: string }[] = await t.dataSource.query(
          `SELECT session_id, count(*) AS n, count(DISTINCT changed_at) AS distinct FROM messages
           WHERE session_id = ANY($1) AND changed_at IS NOT NULL GROUP BY session_id`,
          [sessions.map((s) => s.id)],
        );
        for (const s of stamps) expect(s.distinct).toBe(s.n);
      }),
      { numRuns: 12 },
    );
    expect(largest).toBeGreaterThan(3);
  }, 120_000);

  it('count, in each request, its authentication and the five statements of the group that carried it, whatever its size', async () => {
    for (const size of [1, 2, 5, 20]) {
      // A writer each: concurrent requests of one user share one authentication (counted by one of them).
      const writers: { owner: User; message: Message }[] = [];
      for (let i = 0; i < size; i += 1) {
        const owner = await f.user();
        writers.push({ owner, message: await f.message(await f.session(owner), { status: MessageStatus.STREAMING, content: '' }) });
      }
      const { result: answers, groups } = await observing(() =>
        together(writers.map(({ owner, message }) => () => t.gql(APPEND, { id: message.id, delta: 'abc', offset: 0 }, { as: owner }))),
      );
      for (const answer of answers) {
        expect(answer.errors).toBeUndefined();
        expect(answer.sql).toBe(6);
      }
      expect(groups.map((g) => [g.appends, g.statements])).toEqual([
        [1, 5],
        [size, 5],
      ]);
    }
  }, 60_000);

  it('commit each append of a group the database fails on its own: only the append that causes the error fails', async () => {
    // A database error of one row's UPDATE, as a constraint or a trigger could raise it.
    await t.dataSource.query(`CREATE FUNCTION test_refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'poisoned content'; END $$`);
    await t.dataSource.query(`CREATE TRIGGER test_refuse_poison BEFORE UPDATE ON messages FOR EACH ROW
      WHEN (NEW.content LIKE '%poison%') EXECUTE FUNCTION test_refuse_poison()`);
    try {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2, max: 8 }), fc.nat(7), async (size, poisoned) => {
          const owner = await f.user();
          const session = await f.session(owner);
          const messages: Message[] = [];
          for (let i = 0; i < size; i += 1) messages.push(await f.message(session, { status: MessageStatus.STREAMING, content: 'a' }));
          const bad = poisoned % size;
          const { result: answers, groups } = await observing(() =>
            together(messages.map((m, i) => () => t.gql(APPEND, { id: m.id, delta: i === bad ? 'poison' : 'ok', offset: 1 }, { as: owner }))),
          );
          expect(groups.find((g) => g.appends === size)).toMatchObject({ failed: true });
          answers.forEach((answer, i) => {
            if (i === bad) expect(codes(answer)).toEqual(['INTERNAL_SERVER_ERROR']);
            else expect(answer.data.appendMessageContent.content).toBe('aok');
          });
          const rows: { id: string; content: string }[] = await t.dataSource.query('SELECT id, content FROM messages WHERE id = ANY($1)', [messages.map((m) => m.id)]);
          expect(new Map(rows.map((r) => [r.id, r.content]))).toEqual(new Map(messages.map((m, i) => [m.id, i === bad ? 'a' : 'aok'])));
        }),
        { numRuns: 5 },
      );
    } finally {
      await t.dataSource.query('DROP TRIGGER test_refuse_poison ON messages');
      await t.dataSource.query('DROP FUNCTION test_refuse_poison()');
    }
  }, 60_000);
});
