/**
 * Requests and responses are made with the app's prototypes (src/http/express-server.ts), so no
 * route changes one's prototype while answering it: in V8 an object whose prototype changes after
 * it was made drags its request's objects through young-generation collections (a third of all
 * that requests allocated was promoted, and scavenges paused 7–20 ms). Every route, method and
 * outcome is tried through the real server, a mounted app or a route's own handling included.
 */
import http from 'node:http';
import fc from 'fast-check';
import { factories } from '../factories';
import { startTestServer, TestServer } from '../harness';

const PATHS = [
  '/graphql',
  '/graphql?query=%7B__typename%7D',
  '/graphql/stream',
  '/healthz',
  '/readyz',
  '/metrics',
  '/playground',
  '/playground/missing.js',
  '/live-dashboard/',
  '/audio/nothing-here',
  '/elsewhere',
];

describe('requests and responses keep the prototypes they were made with', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('on every route, method and outcome (fast-check)', async () => {
    const token = t.tokenFor(await factories(t.dataSource).user());
    const changed: string[] = [];
    const setPrototypeOf = Object.setPrototypeOf;
    const spy = jest.spyOn(Object, 'setPrototypeOf').mockImplementation((object: object, prototype: object | null) => {
      const message = object instanceof http.IncomingMessage || object instanceof http.ServerResponse;
      if (message && Object.getPrototypeOf(object) !== prototype) changed.push(object.constructor.name);
      return setPrototypeOf(object, prototype);
    });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...PATHS),
          fc.constantFrom('GET', 'POST', 'PUT', 'OPTIONS'),
          fc.boolean(),
          fc.constantFrom('{"query":"{ __typename }"}', '{"query":"{ me { id } }"}', '{', ''),
          async (path, method, signedIn, body) => {
            const response = await fetch(`${t.base}${path}`, {
              method,
              headers: { 'content-type': 'application/json', ...(signedIn ? { authorization: `Bearer ${token}` } : {}) },
              body: method === 'GET' || method === 'OPTIONS' ? undefined : body,
              signal: AbortSignal.timeout(1000),
            });
            // An event stream stays open: what it began with is enough.
            await response.arrayBuffer().catch(() => undefined);
            expect(changed).toEqual([]);
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      spy.mockRestore();
    }
  });
});
