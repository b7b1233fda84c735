/**
 * Issue #25, item 4: graphql-sse's single-connection mode at /graphql/stream (PUT reserves a
 * stream, GET opens it with `x-graphql-event-stream-token`, POSTs with the token start
 * operations, DELETE stops one), with the authentication and limits of the other transports.
 */
import { createClient } from 'graphql-sse';
import { User } from '../../src/users/user.entity';
import { factories } from '../factories';
import { startTestServer, TestServer } from '../harness';
import { rawRequest } from '../support/raw-http';
import { sleep, subscribed } from './support/clients';
import { settledTo } from './support/raw-live';

const INIT_TIMEOUT_MS = 500;
let t: TestServer;
let member: User;
let other: User;
beforeAll(async () => {
  t = await startTestServer({ HUB_LIVE_CONNECTION_INIT_TIMEOUT_MS: String(INIT_TIMEOUT_MS), HUB_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION: '2' });
  [member, other] = await Promise.all([factories(t.dataSource).user(), factories(t.dataSource).user()]);
});
afterAll(() => t?.close());
afterEach(() => settledTo(t.server.live.hub, 0));

const stream = () => `${t.url}/stream`;
const auth = (user: User) => ({ authorization: `Bearer ${t.tokenFor(user)}` });

it("serves graphql-sse's client in single-connection mode: two operations on one stream, one stopped, the other still delivered", async () => {
  const f = factories(t.dataSource);
  const session = await f.session(member);
  const client = createClient({ url: stream(), singleConnection: true, retryAttempts: 0, headers: auth(member) });
  try {
    const changes: any[] = [];
    const messages: any[] = [];
    const stopChanges = client.subscribe({ query: 'subscription { sessionChanged { kind sessionId } }' }, { next: (r) => void changes.push(r), error: (e) => void changes.push({ error: String(e) }), complete: () => undefined });
    client.subscribe({ query: 'subscription ($id: ID!) { messageAdded(sessionId: $id) { node { content } } }', variables: { id: session.id } }, { next: (r) => void messages.push(r), error: (e) => void messages.push({ error: String(e) }), complete: () => undefined });
    await subscribed(t.server.live.hub, 2);
    // One connection holds both.
    expect(t.server.live.transports.connections).toBe(1);
    await f.message(session, { content: 'one' });
    const created = await f.session(member);
    const createdChange = { data: { sessionChanged: { kind: 'CREATED', sessionId: created.id } } };
    while (messages.length < 1 || !changes.some((c) => c.data?.sessionChanged?.sessionId === created.id)) await sleep(10);
    expect(messages).toEqual([{ data: { messageAdded: { node: { content: 'one' } } } }]);
    expect(changes).toContainEqual(createdChange);
    stopChanges();
    while (t.server.live.hub.subscriberCount > 1) await sleep(10);
    const seen = changes.length;
    await f.message(session, { content: 'two' });
    await f.session(member);
    while (messages.length < 2) await sleep(10);
    await sleep(200);
    expect(messages.at(-1)).toEqual({ data: { messageAdded: { node: { content: 'two' } } } });
    expect(changes).toHaveLength(seen);
  } finally {
    client.dispose();
  }
}, 30_000);

it('authenticates every request: no token is 401, another viewer\'s stream token is not found', async () => {
  expect((await rawRequest(stream(), { method: 'PUT' })).status).toBe(401);
  const reserved = await rawRequest(stream(), { method: 'PUT', headers: auth(member) });
  expect(reserved.status).toBe(201);
  const token = reserved.text;
  for (const [method, headers, body] of [
    ['GET', { accept: 'text/event-stream' }, undefined],
    ['POST', { 'content-type': 'application/json' }, JSON.stringify({ query: 'subscription { sessionChanged { kind } }', extensions: { operationId: 'a' } })],
    ['DELETE', {}, undefined],
  ] as const) {
    const answer = await rawRequest(`${stream()}${method === 'DELETE' ? '?operationId=a' : ''}`, { method, headers: { ...headers, ...auth(other), 'x-graphql-event-stream-token': token }, body });
    expect({ method, status: answer.status, code: answer.json?.errors?.[0]?.extensions?.code }).toEqual({ method, status: 404, code: 'NOT_FOUND' });
    const anonymous = await rawRequest(stream(), { method, headers: { ...headers, 'x-graphql-event-stream-token': token }, body });
    expect({ method, status: anonymous.status }).toEqual({ method, status: 401 });
  }
});

it('drops a reservation nobody opens within the init timeout, and its slot with it', async () => {
  // The previous test's reservations are gone first.
  while (t.server.live.transports.connections > 0) await sleep(20);
  const reserved = await rawRequest(stream(), { method: 'PUT', headers: auth(member) });
  expect(reserved.status).toBe(201);
  expect(t.server.live.transports.connections).toBe(1);
  await sleep(INIT_TIMEOUT_MS + 300);
  expect(t.server.live.transports.connections).toBe(0);
  const late = await rawRequest(stream(), { method: 'POST', headers: { 'content-type': 'application/json', ...auth(member), 'x-graphql-event-stream-token': reserved.text }, body: JSON.stringify({ query: 'subscription { sessionChanged { kind } }', extensions: { operationId: 'a' } }) });
  expect(late.status).toBe(404);
});

it('holds a stream to the per-connection subscription limit and refuses a reused operation id', async () => {
  const reserved = await rawRequest(stream(), { method: 'PUT', headers: auth(member) });
  const token = reserved.text;
  const controller = new AbortController();
  const opened = await fetch(stream(), { headers: { accept: 'text/event-stream', ...auth(member), 'x-graphql-event-stream-token': token }, signal: controller.signal });
  expect(opened.status).toBe(200);
  const operate = (operationId: string) =>
    rawRequest(stream(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth(member), 'x-graphql-event-stream-token': token },
      body: JSON.stringify({ query: 'subscription { sessionChanged { kind } }', extensions: { operationId } }),
    });
  try {
    expect((await operate('a')).status).toBe(202);
    expect((await operate('b')).status).toBe(202);
    await subscribed(t.server.live.hub, 2);
    const third = await operate('c');
    expect(third.status).toBe(400);
    expect(third.json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'HUB_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION' });
    const again = await operate('a');
    expect(again.status).toBe(409);
    expect(again.json.errors[0].extensions.code).toBe('CONFLICT');
    // DELETE stops one: room for another.
    expect((await rawRequest(`${stream()}?operationId=a`, { method: 'DELETE', headers: { ...auth(member), 'x-graphql-event-stream-token': token } })).status).toBe(200);
    expect((await operate('c')).status).toBe(202);
  } finally {
    controller.abort();
  }
}, 30_000);
