import fc from 'fast-check';
import { createDataSource } from '../../ormconfig';
import { factories } from '../factories';
import { codes, startTestServer, testDatabaseUrl, TestServer } from '../harness';
import { User } from '../../src/users/user.entity';

let t: TestServer;
let user: User;
beforeAll(async () => {
  t = await startTestServer({ HUB_MAX_QUERY_COST: '2000' });
  user = await factories(t.dataSource).user();
});
afterAll(() => t.close());

function expectRejected(result: { status: number; errors?: unknown }, code = 'BAD_USER_INPUT') {
  expect(result.status).toBe(400);
  expect(codes(result as never)).toEqual([code]);
}

describe('query limits', () => {
  it('rejects a query nested deeper than the depth limit', async () => {
    const deep = '{ me { sessions { nodes { messages { nodes { session { messages { nodes { session { owner { sessions { nodes { id } } } } } } } } } } } } }';
    expectRejected(await t.gql(deep, {}, { as: user }));
  });

  it('counts the depth of fields, not of fragments: wrapping levels in fragments never changes the verdict', async () => {
    // A chain of nested fields (me > sessions > nodes > messages > nodes > session > messages > …),
    // each level's selection optionally wrapped in an inline or a named fragment; the verdict must
    // be the same as for the chain without fragments, deep enough or not.
    const HEAD: [string, string][] = [['me', 'User'], ['sessions(first: 1)', 'SessionConnection'], ['nodes', 'Session']];
    const LOOP: [string, string][] = [['messages(first: 1)', 'MessageConnection'], ['nodes', 'Message'], ['session', 'Session']];
    const wrap = fc.constantFrom('none', 'inline', 'named');
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 16 }), fc.array(wrap, { minLength: 16, maxLength: 16 }), async (levels, wraps) => {
        const chain = Array.from({ length: levels }, (_, i) => (i < HEAD.length ? HEAD[i] : LOOP[(i - HEAD.length) % LOOP.length]));
        const fragments: string[] = [];
        // The selection set of chain[i]'s field (its type is chain[i][1]).
        const build = (i: number, withFragments: boolean): string => {
          const [, type] = chain[i];
          const inner = i + 1 < chain.length ? `${chain[i + 1][0]} { ${build(i + 1, withFragments)} }` : type.endsWith('Connection') ? '__typename' : 'id';
          if (!withFragments || wraps[i] === 'none') return inner;
          if (wraps[i] === 'inline') return `... on ${type} { ${inner} }`;
          fragments.push(`fragment L${i} on ${type} { ${inner} }`);
          return `...L${i}`;
        };
        const plain = await t.gql(`{ me { ${build(0, false)} } }`, {}, { as: user });
        const wrapped = await t.gql(`{ me { ${build(0, true)} } } ${fragments.join(' ')}`, {}, { as: user });
        if (levels <= 6) expect(plain.errors).toBeUndefined();
        if (levels >= 15) expect(codes(plain)).toEqual(['BAD_USER_INPUT']);
        expect(wrapped.status).toBe(plain.status);
        expect(codes(wrapped)).toEqual(codes(plain));
      }),
      { numRuns: 60 },
    );
  });

  it('rejects more than 15 aliases', async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(' ');
    expectRejected(await t.gql(`{ ${aliases} }`, {}, { as: user }));
  });

  it('rejects more than 20 directives', async () => {
    const inline = Array.from({ length: 21 }, () => '... @include(if: true) { id }').join(' ');
    expectRejected(await t.gql(`{ me { ${inline} } }`, {}, { as: user }));
  });

  const EXPENSIVE = 'query ($n: Int, $m: Int) { sessions(first: $n) { nodes { messages(first: $m) { nodes { id content } } } } }';
  it('counts page sizes passed as variables in the cost limit', async () => {
    const result = await t.gql(EXPENSIVE, { n: 50, m: 50 }, { as: user });
    expectRejected(result);
    expect(result.errors![0].extensions).toMatchObject({ maxCost: 2000 });
    expect(result.errors![0].extensions!.cost).toBeGreaterThan(2000);
  });

  it('counts page sizes given as literals the same way', async () => {
    const literal = '{ sessions(first: 50) { nodes { messages(first: 50) { nodes { id content } } } } }';
    const viaLiteral = await t.gql(literal, {}, { as: user });
    const viaVariables = await t.gql(EXPENSIVE, { n: 50, m: 50 }, { as: user });
    expectRejected(viaLiteral);
    expect(viaLiteral.errors![0].extensions!.cost).toBe(viaVariables.errors![0].extensions!.cost);
  });

  it('lets a cheap query through', async () => {
    const result = await t.gql(EXPENSIVE, { n: 5, m: 5 }, { as: user });
    expect(codes(result)).not.toContain('BAD_USER_INPUT');
  });
});

describe('HTTP limits', () => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.tokenFor(user)}`, ...headers },
      body,
    });

  it('refuses batched operations', async () => {
    const response = await post(JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }' }]));
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toMatch(/batch/i);
  });

  it('answers an oversized body with 413 and BAD_USER_INPUT', async () => {
    const response = await post(JSON.stringify({ query: `{ me { id } } # ${'x'.repeat(300_000)}` }));
    expect(response.status).toBe(413);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('answers a body that is not JSON with 400 and BAD_USER_INPUT', async () => {
    const response = await post('{"query": ');
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('blocks a simple cross-site request (CSRF prevention)', async () => {
    const response = await post('{"query":"{ me { id } }"}', { 'content-type': 'text/plain' });
    expect(response.status).toBe(400);
  });
});

describe('database statement timeout', () => {
  it('is set on the server connections', async () => {
    const [row] = await t.dataSource.query('SHOW statement_timeout');
    expect(row.statement_timeout).toBe('10s');
  });

  it('cancels a statement that runs longer', async () => {
    const ds = createDataSource({ url: testDatabaseUrl(), poolSize: 1, statementTimeoutMs: 200 });
    await ds.initialize();
    try {
      await expect(ds.query('SELECT pg_sleep(2)')).rejects.toThrow(/statement timeout/);
    } finally {
      await ds.destroy();
    }
  });
});
