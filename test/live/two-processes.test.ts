import { Client } from 'pg';
import { useTestServer, testDatabaseUrl } from '../harness';
import { liveSse, liveWs, Received, sleep } from './support/clients';
import { ServerProcess, startServerProcess } from './support/server-process';

/**
 * Issue 14, item 7: two server processes on one database. Writes made through one reach the
 * other's subscribers through PostgreSQL NOTIFY, in order and exactly once, on both transports;
 * a member never receives anything of another member's sessions; and a LISTEN connection killed
 * with pg_terminate_backend loses no messageAdded event.
 */

const { t, f } = useTestServer();
let a: ServerProcess;
let b: ServerProcess;

beforeAll(async () => {
  [a, b] = await Promise.all([startServerProcess(), startServerProcess()]);
}, 120_000);
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const MESSAGES = 'subscription ($id: ID!, $after: String) { messageAdded(sessionId: $id, after: $after) { cursor node { id content } } }';
const CHANGES = 'subscription ($filter: SessionFilter) { sessionChanged(filter: $filter) { kind sessionId } }';
const POST = 'mutation ($input: PostMessageInput!) { postMessage(input: $input) { id } }';

async function gqlAt(server: ServerProcess, token: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: any[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** A number from the process's /metrics (0 when the series is absent). */
async function metric(server: ServerProcess, series: string): Promise<number> {
  const text = await (await fetch(server.url.replace(/\/graphql$/, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const subscriptionsOn = (server: ServerProcess, feed: string, n: number) =>
  until(async () => (await metric(server, `hub_live_subscriptions{feed="${feed}"}`)) >= n, `${n} ${feed} subscriptions`);

const contents = (received: Received) => received.results.map((r) => r.data.messageAdded.node.content);

describe('two server processes on one database', () => {
  it('delivers writes made on one process to subscribers on the other, in order and exactly once (graphql-ws and SSE)', async () => {
    const [owner, admin] = await Promise.all([f.user(), f.admin()]);
    const session = await f.session(owner);
    const ownerToken = t.tokenFor(owner);
    const adminToken = t.tokenFor(admin);
    const onA = liveWs(a.url, ownerToken);
    const onB = liveSse(b.url, adminToken);
    try {
      const messagesOnA = onA.subscribe(MESSAGES, { id: session.id });
      const changesOnA = onA.subscribe(CHANGES, { filter: { deleted: 'ALL' } });
      const messagesOnB = onB.subscribe(MESSAGES, { id: session.id });
      await subscriptionsOn(a, 'messageAdded', 1);
      await subscriptionsOn(a, 'sessionChanged', 1);
      await subscriptionsOn(b, 'messageAdded', 1);

      // 30 messages, alternately through each process's API.
      const sent: string[] = [];
      for (let i = 0; i < 30; i += 1) {
        const content = `m${String(i).padStart(2, '0')}`;
        await gqlAt(i % 2 ? a : b, ownerToken, POST, { input: { sessionId: session.id, role: 'USER', content } });
        sent.push(content);
      }
      await messagesOnA.waitFor(30);
      await messagesOnB.waitFor(30);
      // The life of another session, written on B, watched on A.
      const created = await gqlAt(b, ownerToken, 'mutation { createSession(input: { title: "two" }) { id } }');
      const id = created.createSession.id;
      for (const query of [
        'mutation ($id: ID!) { updateSession(id: $id, input: { title: "renamed" }) { id } }',
        'mutation ($id: ID!) { deleteSession(id: $id) { id } }',
        'mutation ($id: ID!) { restoreSession(id: $id) { id } }',
      ]) {
        await sleep(50);
        await gqlAt(b, ownerToken, query, { id });
      }
      await sleep(50);
      await gqlAt(b, adminToken, 'mutation ($id: ID!) { purgeSession(id: $id) }', { id });
      await until(() => changesOnA.results.some((r) => r.data.sessionChanged.kind === 'PURGED'), 'the purge');
      await sleep(200);

      expect(contents(messagesOnA)).toEqual(sent);
      expect(contents(messagesOnB)).toEqual(sent);
      const stored: { id: string }[] = await t.dataSource.query('SELECT id FROM messages WHERE session_id = $1 ORDER BY created_at, id', [session.id]);
      expect(messagesOnA.results.map((r) => r.data.messageAdded.node.id)).toEqual(stored.map((r) => r.id));
      const lifeOfT = changesOnA.results.map((r) => r.data.sessionChanged).filter((c) => c.sessionId === id);
      expect(lifeOfT.map((c) => c.kind)).toEqual(['CREATED', 'UPDATED', 'DELETED', 'RESTORED', 'PURGED']);
    } finally {
      await onA.dispose();
      onB.dispose();
    }
  });

  it('never gives a member, on either process, anything of another member’s sessions', async () => {
    const [x, y] = await Promise.all([f.user(), f.user()]);
    const xToken = t.tokenFor(x);
    const yToken = t.tokenFor(y);
    const watchA = liveWs(a.url, xToken);
    const watchB = liveSse(b.url, xToken);
    try {
      const onA = watchA.subscribe(CHANGES, { filter: { deleted: 'ALL' } });
      const onB = watchB.subscribe(CHANGES, { filter: { deleted: 'ALL' } });
      await subscriptionsOn(a, 'sessionChanged', 1);
      await subscriptionsOn(b, 'sessionChanged', 1);
      const ys: string[] = [];
      for (const server of [a, b]) {
        const created = await gqlAt(server, yToken, 'mutation { createSession(input: { title: "private" }) { id } }');
        const yid = created.createSession.id;
        ys.push(yid);
        await gqlAt(server, yToken, POST, { input: { sessionId: yid, role: 'USER', content: 'secret' } });
        await gqlAt(server, yToken, 'mutation ($id: ID!) { deleteSession(id: $id) { id } }', { id: yid });
      }
      const sentinel = await gqlAt(b, xToken, 'mutation { createSession(input: { title: "mine" }) { id } }');
      const sid = sentinel.createSession.id;
      for (const stream of [onA, onB]) {
        await until(() => stream.results.some((r) => r.data.sessionChanged.sessionId === sid), 'the sentinel');
        expect(stream.results.map((r) => r.data.sessionChanged)).toEqual([{ kind: 'CREATED', sessionId: sid }]);
        const body = JSON.stringify(stream.results);
        for (const yid of ys) expect(body).not.toContain(yid);
        expect(body).not.toContain(y.id);
      }
    } finally {
      await watchA.dispose();
      watchB.dispose();
    }
  });

  it('loses no messageAdded event when the LISTEN connection is killed (pg_terminate_backend); sessionChanged is told to resync', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    const token = t.tokenFor(owner);
    const ws = liveWs(a.url, token);
    const admin = new Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    try {
      const messages = ws.subscribe(MESSAGES, { id: session.id });
      const changes = ws.subscribe(CHANGES);
      await subscriptionsOn(a, 'messageAdded', 1);
      await subscriptionsOn(a, 'sessionChanged', 1);
      const gapsBefore = await metric(a, 'hub_live_listener_gaps_total');
      const sent: string[] = [];
      const post = async (content: string) => {
        await gqlAt(b, token, POST, { input: { sessionId: session.id, role: 'USER', content } });
        sent.push(content);
      };
      await post('before');
      await messages.waitFor(1);

      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1`,
        [`hub-live-listener:${a.pid}`],
      );
      expect(killed.rows).toEqual([{ ok: true }]);
      // Written while A is not listening: only the replay can bring these.
      for (let i = 0; i < 10; i += 1) await post(`gap ${i}`);
      await until(async () => (await metric(a, 'hub_live_listener_gaps_total')) === gapsBefore + 1, 'the LISTEN connection to be back');
      for (let i = 0; i < 10; i += 1) await post(`after ${i}`);

      await messages.waitFor(sent.length);
      await sleep(200);
      expect(contents(messages)).toEqual(sent);
      await changes.done();
      expect(changes.results.at(-1)?.errors).toEqual([
        { message: 'Live updates were interrupted: refetch what you show, then subscribe again', extensions: { code: 'INTERNAL_SERVER_ERROR', reason: 'LIVE_RESYNC' } },
      ]);
    } finally {
      await admin.end();
      await ws.dispose();
    }
  });
});
