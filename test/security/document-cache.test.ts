/**
 * A repeated document is a cache hit end to end: it is not parsed, validated, compiled or walked
 * for its cost again. A 14 kB document of a hundred fragments was measured at ~10 ms on every
 * repeat although its parse and validation were cached: the cost estimate (a validation pass of
 * graphql-query-complexity over the operation, fragments expanded) ran on every request. The
 * server's own counters (`hub_graphql_document_work_total` on /metrics) show every step taken.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { User } from '../../src/users/user.entity';
import { useTestServer } from '../harness';
import { Declared, printDocument, roots, variablesFor } from '../support/cost-documents';

const { t, f } = useTestServer({ HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '1000000' });

let member: User;
const sessionIds: string[] = [];
beforeAll(async () => {
  member = await f.user();
  for (let i = 0; i < 3; i += 1) {
    const session = await f.session(member);
    sessionIds.push(session.id);
    await f.message(session);
  }
});

const STEPS = ['cached', 'parse', 'validate', 'compile', 'cost'] as const;
type Steps = Record<(typeof STEPS)[number], number>;

/** The server's document work counters, from its /metrics. */
async function steps(): Promise<Steps> {
  const text = await (await fetch(t.url.replace(/\/graphql$/, '/metrics'))).text();
  const counts = Object.fromEntries(STEPS.map((step) => [step, 0])) as Steps;
  for (const match of text.matchAll(/^hub_graphql_document_work_total\{step="(\w+)"\} (\d+)$/gm)) counts[match[1] as keyof Steps] = Number(match[2]);
  return counts;
}

/** The work one call caused. */
async function workOf(run: () => Promise<unknown>): Promise<Steps> {
  const before = await steps();
  await run();
  const after = await steps();
  return Object.fromEntries(STEPS.map((step) => [step, after[step] - before[step]])) as Steps;
}

const NONE = { parse: 0, validate: 0, compile: 0, cost: 0 };

/** ~14 kB: a hundred fragments on Session, all spread in one page of sessions. */
function fragmentDocument(): string {
  const fragments = Array.from({ length: 100 }, (_, i) => `fragment F${i} on Session { id title createdAt updatedAt isSyncing version deletedAt owner { id email displayName role createdAt } __typename }`);
  const spreads = fragments.map((_, i) => `...F${i}`).join(' ');
  return [`query Big { sessions(first: 3) { totalCount nodes { ${spreads} } } }`, ...fragments].join('\n');
}

describe('a repeated document', () => {
  it('of 14 kB is parsed, validated, compiled and costed once, then only found in the cache', async () => {
    const query = fragmentDocument();
    expect(Buffer.byteLength(query)).toBeGreaterThan(14_000);
    let first: any;
    const firstWork = await workOf(async () => (first = await t.gql(query, {}, { as: member })));
    expect(first.errors).toBeUndefined();
    expect(firstWork).toEqual({ cached: 0, parse: 1, validate: 1, compile: 1, cost: 1 });
    for (let i = 0; i < 5; i += 1) {
      let again: any;
      expect(await workOf(async () => (again = await t.gql(query, {}, { as: member })))).toEqual({ cached: 1, ...NONE });
      expect(again.data).toEqual(first.data);
      expect(again.headers.get('x-query-cost')).toBe(first.headers.get('x-query-cost'));
    }
  });

  it('with other ids, or the same page sizes, takes no work; other page sizes only a new estimate', async () => {
    const byRole = (declared: Declared[], role: Declared['role']) => declared.filter((d) => d.role === role).map((d) => d.name);
    const outcomes = { documents: 0, newEstimates: 0, remembered: 0 };
    await fc.assert(
      fc.asyncProperty(
        roots.map((list) => printDocument(list, sessionIds[0])).chain((printed) => fc.tuple(fc.constant(printed), fc.array(variablesFor(printed.declared, [...sessionIds, randomUUID()]), { minLength: 1, maxLength: 4 }))),
        async ([{ query, variables, declared }, others]) => {
          // A document refused by validation (the depth limit) is not cached: another class.
          const first = await t.gql(query, variables, { as: member });
          if (first.status === 400 && /depth limit/.test(first.errors?.[0]?.message ?? '')) return;
          outcomes.documents += 1;
          expect(await workOf(() => t.gql(query, variables, { as: member }))).toEqual({ cached: 1, ...NONE });
          // Other ids, same page sizes and flags: the estimate is the one remembered.
          const ids = byRole(declared, 'id');
          if (ids.length) {
            const otherIds = { ...variables, ...Object.fromEntries(ids.map((name) => [name, sessionIds[1]])) };
            expect(await workOf(() => t.gql(query, otherIds, { as: member }))).toEqual({ cached: 1, ...NONE });
          }
          // Any variables: never parsed or validated again; estimated at most once for new page sizes.
          for (const vars of others) {
            const work = await workOf(() => t.gql(query, vars, { as: member }));
            expect({ cached: work.cached, parse: work.parse, validate: work.validate }).toEqual({ cached: 1, parse: 0, validate: 0 });
            expect(work.cost).toBeLessThanOrEqual(1);
            expect(work.compile).toBeLessThanOrEqual(1);
            if (work.cost) outcomes.newEstimates += 1;
            else outcomes.remembered += 1;
          }
        },
      ),
      { numRuns: 60 },
    );
    // About two in three generated documents are deeper than the depth limit (spreads count as levels).
    expect(outcomes.documents).toBeGreaterThan(8);
    expect(outcomes.newEstimates).toBeGreaterThan(0);
    expect(outcomes.remembered).toBeGreaterThan(0);
  }, 120_000);
});
