/**
 * No "Did you mean …" in production, whatever is misspelt: fields, arguments, enum values as
 * literals and as variables, input fields, type names in fragments and variable types. Variants
 * are generated from near-misses of real schema names (one character changed, case changed).
 */
import fc from 'fast-check';
import { User } from '../../src/users/user.entity';
import { factories } from '../factories';
import { startTestServer, TestServer } from '../harness';

let production: TestServer;
let development: TestServer;
let user: User;
beforeAll(async () => {
  [production, development] = await Promise.all([
    startTestServer({ NODE_ENV: 'production', HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '100000' }),
    startTestServer({ HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '100000' }),
  ]);
  user = await factories(production.dataSource).user();
});
afterAll(async () => {
  await Promise.all([production?.close(), development?.close()]);
});

/** A near-miss of a name: graphql-js suggests the original for these. */
const nearMiss = (name: string) =>
  fc.oneof(
    fc.nat({ max: name.length - 1 }).map((i) => name.slice(0, i) + name.slice(i + 1)),
    fc.tuple(fc.nat({ max: name.length - 1 }), fc.constantFrom('x', 'e', '_')).map(([i, c]) => name.slice(0, i) + c + name.slice(i + 1)),
    fc.constant(name.toLowerCase()),
    fc.constant(`${name}s`),
  ).filter((n) => n !== name && /^[_A-Za-z][_0-9A-Za-z]*$/.test(n));

const variant: fc.Arbitrary<{ query: string; variables?: Record<string, unknown> }> = fc.oneof<fc.Arbitrary<{ query: string; variables?: Record<string, unknown> }>[]>(
  nearMiss('sessions').map((f) => ({ query: `{ ${f}(first: 1) { totalCount } }` })),
  nearMiss('title').map((f) => ({ query: `{ sessions(first: 1) { nodes { ${f} } } }` })),
  nearMiss('first').map((a) => ({ query: `{ sessions(${a}: 1) { totalCount } }` })),
  nearMiss('CREATED_AT_ASC').map((v) => ({ query: `{ sessions(first: 1, orderBy: ${v}) { totalCount } }` })),
  nearMiss('CREATED_AT_ASC').map((v) => ({ query: 'query ($o: SessionOrder) { sessions(first: 1, orderBy: $o) { totalCount } }', variables: { o: v } })),
  nearMiss('ALL').map((v) => ({ query: 'query ($f: SessionFilter) { sessions(first: 1, filter: $f) { totalCount } }', variables: { f: { deleted: v } } })),
  nearMiss('deleted').map((k) => ({ query: `{ sessions(first: 1, filter: { ${k}: ALL }) { totalCount } }` })),
  nearMiss('deleted').map((k) => ({ query: 'query ($f: SessionFilter) { sessions(first: 1, filter: $f) { totalCount } }', variables: { f: { [k]: 'ALL' } } })),
  nearMiss('Session').map((type) => ({ query: `fragment F on ${type} { id } { sessions(first: 1) { nodes { ...F } } }` })),
  nearMiss('SessionOrder').map((type) => ({ query: `query ($o: ${type}) { sessions(first: 1, orderBy: $o) { totalCount } }` })),
  nearMiss('USER').map((v) => ({ query: 'mutation ($i: PostMessageInput!) { postMessage(input: $i) { id } }', variables: { i: { sessionId: '00000000-0000-0000-0000-000000000000', role: v, content: 'x' } } })),
);

it('production answers every misspelling with a coded 4xx and no suggestion; development still suggests', async () => {
  let suggestedInDevelopment = 0;
  await fc.assert(
    fc.asyncProperty(variant, async (body) => {
      const [prod, dev] = await Promise.all([
        production.gql(body.query, body.variables, { as: user }),
        development.gql(body.query, body.variables, { as: user }),
      ]);
      expect(prod.status).toBeLessThan(500);
      expect(prod.errors?.length).toBeGreaterThan(0);
      expect(JSON.stringify(prod.errors)).not.toMatch(/Did you mean/i);
      expect(prod.errors!.map((e) => e.extensions?.code)).not.toContain('INTERNAL_SERVER_ERROR');
      if (/Did you mean/.test(JSON.stringify(dev.errors))) suggestedInDevelopment += 1;
    }),
    { numRuns: 300 },
  );
  // The variants are near enough for graphql-js to suggest (so the production check is not vacuous).
  expect(suggestedInDevelopment).toBeGreaterThan(100);
}, 120_000);
