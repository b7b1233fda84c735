/**
 * Resource fuzz, #21.6: CPU for new documents that are refused. One member sends generated new
 * documents of the shapes that are expensive to validate (one field repeated hundreds of times,
 * repeated nested lists, thousands of unknown fields, fragments spreading the same fields), each
 * new text, to a server of two worker processes. Before: 0.3 to 1.3 s of CPU per document (the
 * overlapping-fields rule runs to its own 500,000-step budget), and the per-viewer new-document
 * budget counted per process (2 workers, twice the budget). Now the shapes are refused by cheap
 * checks before validation, validation stops at 10 errors, and the budget is shared: at most
 * HUB_MAX_NEW_DOCUMENTS_PER_MINUTE documents get past it, whichever worker takes them.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { User } from '../../../src/users/user.entity';
import { rawRequest } from '../../support/raw-http';
import { tally } from '../support/figures';
import { bounded, expectWithinBounds, ResourceServer, runResourceClass, startResourceServer } from './support/resource-run';

const BUDGET = 120;
const DOCUMENTS = 200;

let server: ResourceServer;
let attacker: User;
let bystander: User;
beforeAll(async () => {
  server = await startResourceServer({ HUB_WORKERS: '2', HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: String(BUDGET) });
  [attacker, bystander] = await Promise.all([server.f.user(), server.f.user()]);
});
afterAll(() => server?.close());

/** Documents under the token limit (3,000) that cost the most to validate, before this fix. */
const expensive = fc.oneof(
  fc.integer({ min: 300, max: 740 }).map((n) => `{ ${'me { id } '.repeat(n)}}`),
  fc.integer({ min: 100, max: 330 }).map((n) => `{ ${'sessions { nodes { id title } } '.repeat(n)}}`),
  fc.integer({ min: 500, max: 2_900 }).map((n) => `{ ${Array.from({ length: n }, (_, i) => `sessionz${i}`).join(' ')} }`),
  fc.integer({ min: 20, max: 99 }).map(
    (n) => `{ me { ...F } } ${Array.from({ length: n }, (_, i) => `fragment F${i} on User { id email }`).join(' ')} fragment F on User { ${Array.from({ length: 2 * n }, (_, i) => `...F${i % n}`).join(' ')} }`,
  ),
);

test('new hostile documents from one member: cheap to refuse, and the budget holds across two workers', async () => {
  const documents = fc.sample(expensive, DOCUMENTS).map((text) => `${text} # ${randomUUID()}`);
  const token = server.tokenFor(attacker);
  const figures = await runResourceClass({
    name: 'refused-new-documents',
    server,
    bystander,
    // 100 MB a worker: each worker's young generation (its semi-spaces, src/cli/v8-flags.ts)
    // grows under any busy minute of parsing, attacker or not, and two workers measured +72 to
    // +164 MB; the code before held +334 MB.
    rssBoundMb: 2 * 100,
    cpuBoundSeconds: 25,
    attack: async () => {
      // One document at a time, as fast as answers come, each on a new connection (the workers share them).
      const answers = await bounded(DOCUMENTS, 1, 45_000, (i) =>
        rawRequest(server.child.graphqlUrl, {
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, connection: 'close' },
          body: JSON.stringify({ query: documents[i] }),
        }),
      );
      const outcomes = answers.map((a) => (a.network ? `network ${a.network}` : `${a.status} ${a.json?.errors?.[0]?.extensions?.reason ?? a.json?.errors?.[0]?.extensions?.code ?? 'data'}`));
      return { requests: answers.length, outcomes: tally(outcomes) };
    },
  });
  expectWithinBounds(figures);
  expect(figures.requests).toBe(DOCUMENTS);
  // Past the budget: at most BUDGET documents in the minute, over both workers together.
  const pastBudget = Object.entries(figures.outcomes).filter(([k]) => !k.startsWith('429')).reduce((n, [, v]) => n + v, 0);
  expect(pastBudget).toBeLessThanOrEqual(BUDGET);
  expect(figures.outcomes['429 NEW_DOCUMENT_RATE']).toBe(DOCUMENTS - pastBudget);
});
