/**
 * Deeply nested documents (src/http/document-limits.ts, `checkNesting`): graphql-js's parser
 * recurses at every `[`, `{` and `(`. About 2,900 nested lists overflowed the stack before the
 * token limit stopped them, and the answer was "Maximum call stack size exceeded". Which depth
 * overflowed depended on V8's frames, so a reliability fuzz run failed only now and then.
 *
 * The promise, for generated shapes (lists, input objects, selections), depths on both sides of
 * MAX_NESTING and of the token limit, brackets in strings and comments that are not nesting, and
 * two token limits:
 * - over the token limit: the token limit's refusal, whatever the depth;
 * - else deeper than MAX_NESTING: TOO_DEEPLY_NESTED;
 * - else what the document deserves, never a refusal for nesting;
 * - never a stack overflow, never a 5xx.
 */
import fc from 'fast-check';
import { MAX_NESTING } from '../../src/http/document-limits';
import { User } from '../../src/users/user.entity';
import { factories } from '../factories';
import { startTestServer, TestServer } from '../harness';
import { tokensOf } from '../support/hostile';
import { rawRequest } from '../support/raw-http';

let servers: Record<'default' | 'roomy', TestServer>;
let member: User;
beforeAll(async () => {
  // Every generated document is new: the new-document budget is not what is tested here.
  const lifted = { HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '1000000' };
  const [byDefault, roomy] = await Promise.all([startTestServer(lifted), startTestServer({ ...lifted, HUB_MAX_QUERY_TOKENS: '100000' })]);
  servers = { default: byDefault, roomy };
  member = await factories(byDefault.dataSource).user();
});
afterAll(async () => {
  await Promise.all(Object.values(servers ?? {}).map((s) => s.close()));
});

/** A document nested `n` levels inside its outer ones, and its depth counted by hand. */
const SHAPES = {
  // `{` and `(`, then n lists; the innermost string holds brackets that are not nesting.
  lists: (n: number, decoy: string) => ({ query: `{ nodes(ids: ${'['.repeat(n)}"${decoy}"${']'.repeat(n)}) { id } }`, depth: n + 2 }),
  objects: (n: number, decoy: string) => ({ query: `{ sessions(filter: ${'{ userId: '.repeat(n)}"${decoy}"${' }'.repeat(n)}) { totalCount } }`, depth: n + 2 }),
  selections: (n: number, decoy: string) => {
    const k = Math.max(1, Math.ceil(n / 4));
    return { query: `{ ${'me { sessions { nodes { owner { '.repeat(k)}id${' } } } }'.repeat(k)} } # ${decoy}`, depth: 4 * k + 1 };
  },
};

const depths = fc.oneof(
  fc.integer({ min: 1, max: 60 }),
  fc.integer({ min: MAX_NESTING - 6, max: MAX_NESTING + 6 }),
  fc.integer({ min: 700, max: 3_200 }),
  fc.integer({ min: 3_200, max: 40_000 }),
);

describe('deeply nested documents', () => {
  it('are refused for tokens over the limit, else for nesting past MAX_NESTING, never with a stack overflow', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<keyof typeof SHAPES>('lists', 'objects', 'selections'),
        depths,
        fc.constantFrom('x', '[[[[{{{{(((', ']]]]}}}}'),
        fc.constantFrom<'default' | 'roomy'>('default', 'roomy'),
        async (shape, n, decoy, name) => {
          const server = servers[name];
          const { query, depth } = SHAPES[shape](n, decoy);
          const answer = await rawRequest(server.url, {
            headers: { 'content-type': 'application/json', authorization: `Bearer ${server.tokenFor(member)}` },
            body: JSON.stringify({ query }),
          });
          if (answer.status === 413) return; // over the body limit: never parsed
          const messages: string[] = (answer.json?.errors ?? []).map((e: { message: string }) => e.message);
          const reasons = (answer.json?.errors ?? []).map((e: { extensions?: { reason?: string } }) => e.extensions?.reason);
          expect(answer.status).toBeLessThan(500);
          expect(messages.filter((m) => /call stack/i.test(m))).toEqual([]);
          const overTokens = tokensOf(query) > server.config.maxQueryTokens;
          const outcome = {
            refusedForTokens: answer.status === 400 && messages.some((m) => /more tha[nt] \d+ tokens/.test(m)),
            refusedForNesting: answer.status === 400 && reasons.includes('TOO_DEEPLY_NESTED'),
          };
          expect({ shape, n, name, ...outcome }).toEqual({
            shape,
            n,
            name,
            refusedForTokens: overTokens,
            refusedForNesting: !overTokens && depth > MAX_NESTING,
          });
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);
});
