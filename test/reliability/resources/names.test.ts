/**
 * Resource fuzz, #21.3: client-chosen operation names. One member sends unique 100,000-character
 * operation names (and unique short ones) over HTTP, SSE and WebSocket with a cached, valid
 * document, so each request is refused cheaply and uncharged: what must stay bounded is what the
 * names leave behind, /metrics (its size and render time) and the server's memory. Before the
 * names went through one label function (src/common/client-names.ts) 120 such requests grew
 * /metrics to 336 MB and RSS by 1.1 GB.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { User } from '../../../src/users/user.entity';
import { request } from '../support/http';
import { AttackResult, bounded, expectWithinBounds, METRICS_TOKEN, outcomeOf, ResourceServer, runResourceClass, startResourceServer } from './support/resource-run';
import { tally } from '../support/figures';

const REQUESTS_PER_TRANSPORT = 60;
const NAME_LENGTH = 100_000;

let server: ResourceServer;
let attacker: User;
let bystander: User;
beforeAll(async () => {
  server = await startResourceServer();
  [attacker, bystander] = await Promise.all([server.f.user(), server.f.user()]);
});
afterAll(() => server?.close());

/** A unique name: long ones (the observation) and short ones (many distinct series). */
const names = (count: number) =>
  fc.sample(
    fc.oneof(
      fc.string({ minLength: 8, maxLength: 16 }).map((s) => `${s}${'é'.repeat(NAME_LENGTH - s.length)}`),
      fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{3,30}$/),
    ),
    count,
  ).map((name, i) => `${i}${name}`);

/** One WebSocket (graphql-transport-ws) connection, a subscribe per name, each sent once the previous one was answered. */
function overWebSocket(url: string, token: string, subscription: string, list: string[]): Promise<string[]> {
  return new Promise((resolve) => {
    const outcomes: string[] = [];
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const finish = () => {
      socket.terminate();
      resolve(outcomes);
    };
    const timer = setTimeout(finish, 30_000);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      const send = (i: number) => socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: subscription, operationName: list[i] } }));
      if (message.type === 'connection_ack') send(0);
      else if (message.type === 'error' || message.type === 'complete' || message.type === 'next') {
        outcomes.push(`ws ${message.type}${message.payload?.[0]?.extensions?.code ? ` ${message.payload[0].extensions.code}` : ''}`);
        if (message.type === 'next') return;
        if (outcomes.length >= list.length) {
          clearTimeout(timer);
          finish();
        } else send(outcomes.length);
      }
    });
    socket.on('close', (code) => {
      outcomes.push(`ws closed ${code}`);
      clearTimeout(timer);
      resolve(outcomes);
    });
    socket.on('error', () => undefined);
  });
}

test('unique 100,000-character operation names over HTTP, SSE and WebSocket leave /metrics and memory bounded', async () => {
  const { child } = server;
  const token = server.tokenFor(attacker);
  const query = 'query Known { me { id } }';
  const subscription = 'subscription KnownLive { sessionChanged { kind } }';
  let metricsBytes = 0;
  let metricsMs = 0;
  const figures = await runResourceClass({
    name: 'unique-operation-names',
    server,
    bystander,
    rssBoundMb: 120,
    attack: async (): Promise<AttackResult> => {
      const outcomes: string[] = [];
      const auth = { authorization: `Bearer ${token}` };
      // HTTP: the cached document under an operation name it does not have.
      const http = await bounded(REQUESTS_PER_TRANSPORT, 2, 20_000, (i) =>
        request(child.graphqlUrl, { headers: auth, body: { query, operationName: names(1)[0] + i } }),
      );
      outcomes.push(...http.map((r) => `http ${outcomeOf(r)}`));
      // SSE (distinct connections): one POST per name.
      const sse = await bounded(REQUESTS_PER_TRANSPORT, 2, 20_000, (i) =>
        request(`${child.graphqlUrl}/stream`, {
          headers: { ...auth, accept: 'text/event-stream' },
          body: { query: subscription, operationName: names(1)[0] + i },
          timeoutMs: 5_000,
        }),
      );
      outcomes.push(...sse.map((r) => `sse ${r.network === 'TIMEOUT' ? 'held open' : outcomeOf(r)}`));
      // WebSocket: one connection, a subscribe per name.
      outcomes.push(...(await overWebSocket(child.graphqlUrl, token, subscription, names(REQUESTS_PER_TRANSPORT))));
      const started = Date.now();
      const metrics = await request(`${child.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` }, timeoutMs: 30_000 });
      metricsMs = Date.now() - started;
      metricsBytes = Buffer.byteLength(metrics.text ?? '');
      return { requests: 3 * REQUESTS_PER_TRANSPORT, outcomes: { ...tally(outcomes), metricsBytes, metricsMs } };
    },
  });
  expectWithinBounds(figures);
  // Every label a bounded name: 200 kB of /metrics is far more than this server's few hundred series.
  expect({ metricsBytes: metricsBytes < 200_000 ? 'bounded' : metricsBytes, metricsMs: metricsMs < 1_000 ? 'fast' : metricsMs }).toEqual({ metricsBytes: 'bounded', metricsMs: 'fast' });
});
