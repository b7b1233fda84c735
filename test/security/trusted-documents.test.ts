/**
 * Trusted documents (HUB_TRUSTED_DOCUMENTS): the manifest codegen writes for the example client
 * (examples/dashboard-client/gql/persisted-documents.json) is what a `require` server runs, and
 * nothing else; `allow` runs both; `off` refuses a documentId with a code the client can act on.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { fetchDashboard } from '../../examples/dashboard-client/run';
import { loadConfig } from '../../src/config';
import { createOperationGuard } from '../../src/http/operation-guard';
import { loadTrustedDocuments } from '../../src/http/trusted-documents';
import { resolvers, typeDefs } from '../../src/schema';
import { User } from '../../src/users/user.entity';
import { factories } from '../factories';
import { startTestServer, testDatabaseUrl, TestServer } from '../harness';
import { documentId } from '../support/hostile';
import { problemWith, rawRequest } from '../support/raw-http';

const MANIFEST = path.resolve(__dirname, '../../examples/dashboard-client/gql/persisted-documents.json');
const manifest: Record<string, string> = require(MANIFEST);
const [[DASHBOARD_ID, DASHBOARD_TEXT]] = Object.entries(manifest);

let require_: TestServer;
let allow: TestServer;
let off: TestServer;
let member: User;

beforeAll(async () => {
  [require_, allow, off] = await Promise.all([
    startTestServer({ HUB_TRUSTED_DOCUMENTS: 'require', HUB_TRUSTED_DOCUMENTS_FILE: MANIFEST }),
    startTestServer({ HUB_TRUSTED_DOCUMENTS: 'allow', HUB_TRUSTED_DOCUMENTS_FILE: MANIFEST }),
    startTestServer(),
  ]);
  const f = factories(require_.dataSource);
  member = await f.user();
  const session = await f.session(member, { title: 'Trusted' });
  await f.message(session);
});
afterAll(async () => {
  await Promise.all([require_?.close(), allow?.close(), off?.close()]);
});

const post = (t: TestServer, body: unknown, as: User = member) =>
  rawRequest(t.url, { headers: { 'content-type': 'application/json', authorization: `Bearer ${t.tokenFor(as)}` }, body: JSON.stringify(body) });
const get = (t: TestServer, params: Record<string, string>, as: User = member) =>
  rawRequest(`${t.url}?${new URLSearchParams(params)}`, { method: 'GET', headers: { authorization: `Bearer ${t.tokenFor(as)}`, 'apollo-require-preflight': 'true' } });

describe('require', () => {
  it('runs the example client (it sends only the documentId) in one request', async () => {
    const requests: string[] = [];
    const data = await fetchDashboard(require_.url, require_.tokenFor(member), { first: 5 }, (body) => requests.push(body));
    expect(data.sessions.edges.map((e) => e.node.title)).toEqual(['Trusted']);
    expect(requests).toHaveLength(1);
    expect(JSON.parse(requests[0])).toEqual({ documentId: DASHBOARD_ID, variables: { first: 5 } });
  });

  it('runs a documentId by GET', async () => {
    const answer = await get(require_, { documentId: DASHBOARD_ID, variables: JSON.stringify({ first: 1 }) });
    expect(answer.status).toBe(200);
    expect(answer.json.data.sessions.totalCount).toBe(1);
  });

  it('refuses any text, its own manifest text and automatic persisted queries included', async () => {
    const apqHash = createHash('sha256').update('{ me { id } }').digest('hex');
    for (const body of [
      { query: '{ me { id } }' },
      { query: DASHBOARD_TEXT, variables: { first: 1 } },
      { query: '{ me { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: apqHash } } },
      { extensions: { persistedQuery: { version: 1, sha256Hash: apqHash } } },
    ]) {
      const answer = await post(require_, body);
      expect(answer.status).toBe(400);
      expect(answer.json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'TRUSTED_DOCUMENT_REQUIRED' });
    }
    const byGet = await get(require_, { query: '{ me { id } }' });
    expect(byGet.status).toBe(400);
    expect(byGet.json.errors[0].extensions.reason).toBe('TRUSTED_DOCUMENT_REQUIRED');
  });

  it('answers any documentId, query and extensions a client may send with data or a coded 4xx', async () => {
    const outcomes = { data: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(require_, allow, off),
        documentId(DASHBOARD_ID),
        fc.option(fc.constantFrom('{ me { id } }', DASHBOARD_TEXT, ''), { nil: undefined }),
        fc.option(fc.constantFrom({ first: 2 }, {}, { first: 'x' }), { nil: undefined }),
        fc.constantFrom('POST', 'GET'),
        async (server, id, query, variables, method) => {
          const body: Record<string, unknown> = { documentId: id, query, variables };
          const answer =
            method === 'POST'
              ? await post(server, body)
              : await get(server, Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])));
          expect(problemWith(answer)).toBeUndefined();
          if (answer.status === 200 && answer.json.data) outcomes.data += 1;
          else outcomes.refused += 1;
          // Only the manifest's id alone runs on require; every other answer is a refusal.
          if (server === require_ && answer.json?.data) expect(id === DASHBOARD_ID && query === undefined).toBe(true);
        },
      ),
      {
        numRuns: 300,
        // The manifest's id alone, on every server and method: a run always includes answers with data.
        examples: [
          [require_, DASHBOARD_ID, undefined, { first: 2 }, 'POST'],
          [allow, DASHBOARD_ID, undefined, { first: 2 }, 'GET'],
          [off, DASHBOARD_ID, undefined, { first: 2 }, 'POST'],
        ],
      },
    );
    expect(outcomes.data).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  }, 120_000);
});

describe('allow and off', () => {
  it('allow runs both a documentId and a text', async () => {
    expect((await post(allow, { documentId: DASHBOARD_ID, variables: { first: 1 } })).json.data.sessions.totalCount).toBe(1);
    expect((await post(allow, { query: '{ me { id } }' })).json.data.me.id).toBe(member.id);
  });

  it('off refuses a documentId with TRUSTED_DOCUMENTS_OFF, and the example client falls back to the text', async () => {
    const answer = await post(off, { documentId: DASHBOARD_ID, variables: { first: 1 } });
    expect(answer.status).toBe(400);
    expect(answer.json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'TRUSTED_DOCUMENTS_OFF' });
    const requests: string[] = [];
    const data = await fetchDashboard(off.url, off.tokenFor(member), { first: 5 }, (body) => requests.push(body));
    expect(data.sessions.totalCount).toBe(1);
    expect(requests.map((r) => Object.keys(JSON.parse(r)).sort())).toEqual([['documentId', 'variables'], ['query', 'variables']]);
  });
});

describe('the manifest', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hub-manifest-'));
  const schema = makeExecutableSchema({ typeDefs: typeDefs(), resolvers: resolvers() });
  const config = loadConfig({ HUB_JWT_SECRET: 'x'.repeat(40), DATABASE_URL: testDatabaseUrl(), NODE_ENV: 'production' });
  // What createServer does at start with HUB_TRUSTED_DOCUMENTS_FILE.
  const start = async (content: string) => {
    const file = path.join(dir, `${createHash('sha256').update(content).digest('hex')}.json`);
    writeFileSync(file, content);
    createOperationGuard(schema, config, loadTrustedDocuments('require', file));
  };
  const id = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

  it('loads the example client manifest', async () => {
    await expect(start(JSON.stringify(manifest))).resolves.toBeUndefined();
  });

  it('refuses to start on a manifest whose hashes, documents or shape are wrong', async () => {
    const bad = fc.oneof(
      fc.string({ maxLength: 40 }).map((s) => `{ ${s}`).filter((text) => !parses(text)), // not JSON ("{ }" would be)
      fc.constantFrom('[]', 'null', '"x"', '42'),
      fc.string({ minLength: 1, maxLength: 40 }).map((s) => JSON.stringify({ [id(`${s}!`)]: `{ me { id } } # ${s}` })), // hash of another text
      fc.constant(JSON.stringify({ [id('{ me { id } }').toUpperCase()]: '{ me { id } }' })),
      fc.constant(JSON.stringify({ [id('{ me { id } }').replace('sha256:', '')]: '{ me { id } }' })),
      fc.constant(JSON.stringify({ [id('42')]: 42 })),
      fc.constantFrom('{ me { nope } }', '{ me { id ', 'subscription { x }', '{ me { id } } { me { id } }').map((text) => JSON.stringify({ [id(text)]: text })), // does not validate
    );
    await fc.assert(
      fc.asyncProperty(bad, async (content) => {
        await expect(start(content)).rejects.toThrow(/HUB_TRUSTED_DOCUMENTS_FILE|Trusted document/);
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
