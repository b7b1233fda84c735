/**
 * Every byte a client controls ends in data or a coded 4xx in the API's JSON error format:
 * fragment chains (which overflowed graphql-js validation's stack), documents over the token
 * limit, subscriptions over plain HTTP, content encodings the server cannot decode, and header
 * blocks over Node's limit. Each class is generated (fast-check); no answer may be a 5xx.
 */
import fc from 'fast-check';
import { User } from '../../src/users/user.entity';
import { startTestServer, TestServer } from '../harness';
import { factories } from '../factories';
import { encodedBody, fragmentChain, headerBomb, TOKEN_SHAPES } from '../support/hostile';
import { problemWith, rawRequest } from '../support/raw-http';

let t: TestServer;
/** The same app with a token limit high enough that only the fragment limits stand in the way. */
let roomy: TestServer;
let user: User;

beforeAll(async () => {
  [t, roomy] = await Promise.all([
    startTestServer({ HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '100000' }),
    startTestServer({ HUB_MAX_QUERY_TOKENS: '100000', HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '100000' }),
  ]);
  user = await factories(t.dataSource).user();
});
afterAll(async () => {
  await t?.close();
  await roomy?.close();
});

const post = (server: TestServer, body: unknown, headers: Record<string, string> = {}) =>
  rawRequest(server.url, {
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.tokenFor(user)}`, ...headers },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });

describe('documents', () => {
  it('a fragment chain of any length and fan-out is a coded 4xx or data, never a 500', async () => {
    const cases = { rejected: 0, answered: 0 };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2500 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom<'Session' | 'User'>('Session', 'User'), async (length, fanOut, type) => {
        const answer = await post(roomy, { query: fragmentChain(length, fanOut, type) });
        expect(problemWith(answer)).toBeUndefined();
        if (answer.status === 200) cases.answered += 1;
        else {
          cases.rejected += 1;
          expect(answer.status).toBe(400);
          expect(answer.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
        }
      }),
      { numRuns: 60, examples: [[2000, 2, 'Session'], [2000, 1, 'User'], [30, 2, 'User']] },
    );
    expect(cases.answered).toBeGreaterThan(0);
    expect(cases.rejected).toBeGreaterThan(0);
  }, 120_000);

  it('a document over the token limit is a coded 400 (parsing stops), never a 500', async () => {
    // Comments and strings are not many tokens: those run (or are refused for other reasons).
    const shape = fc.constantFrom(...Object.values(TOKEN_SHAPES));
    await fc.assert(
      fc.asyncProperty(shape, fc.integer({ min: 1000, max: 40_000 }), async (make, n) => {
        const answer = await post(t, { query: make(n) });
        expect(problemWith(answer)).toBeUndefined();
        if (answer.status !== 200) expect(answer.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      }),
      { numRuns: 60 },
    );
    const bomb = await post(t, { query: `{ me { ${'id '.repeat(5000)} } }` });
    expect(bomb.status).toBe(400);
    expect(bomb.json.errors[0].message).toMatch(/more tha[nt] 3000 tokens/);
  }, 120_000);

  it('a subscription over HTTP (POST or GET) is BAD_USER_INPUT, never INTERNAL_SERVER_ERROR', async () => {
    const field = fc.constantFrom('sessionChanged { kind sessionId }', 'messageAdded(sessionId: "x") { cursor }', 'me { id }', '__typename', 'nothing');
    await fc.assert(
      fc.asyncProperty(field, fc.option(fc.constantFrom('S', 'OnChange'), { nil: undefined }), fc.constantFrom('POST', 'GET'), async (selection, name, method) => {
        const query = `subscription ${name ?? ''} { ${selection} }`;
        const answer =
          method === 'POST'
            ? await post(t, { query, operationName: name })
            : await rawRequest(`${t.url}?query=${encodeURIComponent(query)}`, { method: 'GET', headers: { authorization: `Bearer ${t.tokenFor(user)}`, 'apollo-require-preflight': 'true' } });
        expect(problemWith(answer)).toBeUndefined();
        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect(answer.json.errors.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
      }),
      { numRuns: 40 },
    );
  });
});

describe('HTTP envelope', () => {
  const validBody = Buffer.from(JSON.stringify({ query: '{ me { id } }' }));
  it('a content-encoding the server cannot decode is a coded 4xx in the JSON error format', async () => {
    await fc.assert(
      fc.asyncProperty(encodedBody(validBody), async ({ encoding, bytes }) => {
        const answer = await post(t, bytes, { 'content-encoding': encoding });
        expect(problemWith(answer)).toBeUndefined();
      }),
      { numRuns: 120 },
    );
  }, 120_000);

  it('a header block over the server limit is a 431 in the JSON error format', async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(headerBomb, async (extra) => {
        const answer = await post(t, validBody, extra);
        seen.add(answer.status);
        expect(problemWith(answer)).toBeUndefined();
        if (answer.status === 431) expect(answer.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      }),
      { numRuns: 80 },
    );
    expect(seen.has(431)).toBe(true);
  }, 120_000);
});
