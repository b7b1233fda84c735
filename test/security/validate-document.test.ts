/**
 * Validation with repeated fragments merged (src/http/validate-document.ts) says what graphql-js
 * says: over generated documents of fragments that repeat one another (the same text, or the same
 * fields written differently), spread together, inside one another and beside fields of their
 * own, some conflicting (aliases over different fields, differing arguments, different shapes),
 * the set of error messages equals that of `validate` with the specified rules (up to the order
 * in which a message names two conflicting fields). Through the
 * server, a document whose repeats conflict is refused with graphql-js's message.
 */
import fc from 'fast-check';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { parse, specifiedRules, validate } from 'graphql';
import { resolvers, typeDefs } from '../../src/schema';
import { withoutRepeatedFragments } from '../../src/http/repeated-fragments';
import { documentValidator } from '../../src/http/validate-document';
import { useTestServer } from '../harness';

const schema = makeExecutableSchema({ typeDefs: typeDefs(), resolvers: resolvers() });
const ours = documentValidator(schema, { rules: [], asSent: [] });
/** Messages as a sorted list, each pair `"x" and "y"` in one order (which of two conflicting fields
 * comes first depends on which pair the rule met first), without graphql-js's note that it stopped
 * at 100 errors. */
const messages = (errors: readonly { message: string }[]) =>
  [...new Set(errors.filter((e) => !e.message.startsWith('Too many validation errors')).map((e) => e.message.replace(/"(\w+)" and "(\w+)"/g, (_, x: string, y: string) => (x < y ? `"${x}" and "${y}"` : `"${y}" and "${x}"`))))].sort();

/** Wrong alone, whatever the rest: a variable ($n, declared or not), an unknown field, an unknown argument. */
const WRONG_ALONE = ['v: messages(first: $n) { nodes { id } }', 'nope', 'title(x: 1)'];
/** Session selections; pairs of them conflict under one response name (`a`, `m`, `owner`'s `d`). */
const FIELDS = [
  'id',
  'title',
  'a: title',
  'a: id',
  'a: skills { id }',
  'messageCount',
  'm: messages(first: 1) { nodes { id } }',
  'm: messages(first: 2) { nodes { id } }',
  'owner { id }',
  'owner { d: id }',
  'owner { d: displayName }',
  '... on Session { a: title }',
  ...WRONG_ALONE,
];

interface Doc {
  bodies: string[][];
  /** Each fragment: which body, written with extra spaces or not, and the earlier fragments it spreads. */
  fragments: { body: number; spaced: boolean; spreads: number[] }[];
  site: { fields: string[]; spreads: number[] };
  /** Whether `$n` is declared; whether a fragment nobody spreads is spread at the site anyway. */
  declared: boolean;
  spreadAll: boolean;
}

/** Bodies that differ in one selection (the closest calls for a key that tells repeats apart), or at random. */
const bodies = fc.oneof(
  fc.record({ base: fc.subarray(FIELDS, { maxLength: 2 }), variants: fc.array(fc.constantFrom(...FIELDS), { minLength: 1, maxLength: 4 }) }).map(({ base, variants }) => variants.map((v) => [...base, v])),
  fc.array(fc.subarray(FIELDS, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
);

const doc: fc.Arbitrary<Doc> = fc
  .record({ bodies, count: fc.integer({ min: 1, max: 10 }) })
  .chain(({ bodies, count }) =>
    fc.record({
      bodies: fc.constant(bodies),
      fragments: fc.tuple(
        ...Array.from({ length: count }, (_, i) =>
          fc.record({ body: fc.nat(bodies.length - 1), spaced: fc.boolean(), spreads: i === 0 ? fc.constant<number[]>([]) : fc.array(fc.nat(i - 1), { maxLength: 2 }) }),
        ),
      ),
      site: fc.record({ fields: fc.subarray(FIELDS, { maxLength: 2 }), spreads: fc.array(fc.nat(count - 1), { minLength: 1, maxLength: 2 * count }) }),
      declared: fc.boolean(),
      spreadAll: fc.boolean(),
    }),
  );

/** Documents without the selections that are wrong alone, every fragment spread: most of them run. */
const runnable = doc.map((d): Doc => {
  const right = (fields: string[]) => fields.filter((field) => !WRONG_ALONE.includes(field));
  return { ...d, bodies: d.bodies.map((body) => (right(body).length ? right(body) : ['id'])), site: { ...d.site, fields: right(d.site.fields) }, declared: false, spreadAll: true };
});

/**
 * The document; `distinct`: each fragment's text made its own (its spacing), so that none repeats
 * another; `conditions`: the site's spreads under `@include`/`@skip` of variables (`$c<i>`).
 */
function print({ bodies, fragments, site, declared = true, spreadAll = true }: Doc, options: { distinct?: boolean; conditions?: ('include' | 'skip' | undefined)[] } = {}): string {
  const definitions = fragments.map(({ body, spaced, spreads }, i) => {
    const selections = [...bodies[body], ...spreads.map((j) => `...F${j}`)].join(spaced ? '  ' : ' ');
    return `fragment F${i} on Session {${options.distinct ? ' '.repeat(i + 1) : ' '}${selections} }`;
  });
  const used = new Set([...site.spreads, ...fragments.flatMap((f) => f.spreads)]);
  const spreads = [...site.spreads, ...fragments.map((_, i) => i).filter((i) => spreadAll && !used.has(i))].map((i, k) => {
    const condition = options.conditions?.[k];
    return `...F${i}${condition ? ` @${condition}(if: $c${k})` : ''}`;
  });
  const variables = [...(declared ? ['$n: Int'] : []), ...(options.conditions?.flatMap((c, k) => (c && k < spreads.length ? [`$c${k}: Boolean!`] : [])) ?? [])];
  const head = variables.length ? `query Q(${variables.join(', ')})` : 'query Q';
  return [`${head} { sessions(first: 2) { nodes { ${[...site.fields, ...spreads].join(' ')} } } }`, ...definitions].join('\n');
}

describe('validation with repeated fragments merged', () => {
  it('gives the error messages graphql-js gives, for any document', () => {
    const seen = { merged: 0, conflicts: 0, clean: 0 };
    fc.assert(
      fc.property(doc, (generated) => {
        const document = parse(print(generated));
        if (withoutRepeatedFragments(document) !== document) seen.merged += 1;
        const theirs = validate(schema, document, specifiedRules);
        const expected = messages(theirs);
        // graphql-js stops at 100 errors (its copies repeat theirs), before rules that report at
        // the document's end (NoUnusedFragments): then it said less, and all it said is ours.
        if (theirs.some((e) => e.message.startsWith('Too many validation errors'))) expect(messages(ours(document))).toEqual(expect.arrayContaining(expected));
        else expect(messages(ours(document))).toEqual(expected);
        if (expected.length) seen.conflicts += 1;
        else seen.clean += 1;
      }),
      {
        numRuns: 600,
        examples: [
          // Two copies of a fragment that conflicts with itself, and a copy that conflicts with a field beside it.
          [{ bodies: [['a: title', 'a: id']], fragments: [{ body: 0, spaced: false, spreads: [] }, { body: 0, spaced: false, spreads: [] }], site: { fields: [], spreads: [0, 1] }, declared: true, spreadAll: true }],
          [{ bodies: [['a: title']], fragments: [{ body: 0, spaced: false, spreads: [] }, { body: 0, spaced: false, spreads: [] }], site: { fields: ['a: id'], spreads: [1] }, declared: true, spreadAll: true }],
          // Bodies that differ only in an argument, or in a sub-selection: not repeats.
          [{ bodies: [['id', 'm: messages(first: 1) { nodes { id } }'], ['id', 'm: messages(first: 2) { nodes { id } }']], fragments: [{ body: 0, spaced: false, spreads: [] }, { body: 1, spaced: false, spreads: [] }], site: { fields: [], spreads: [0, 1] }, declared: true, spreadAll: true }],
          [{ bodies: [['owner { d: id }'], ['owner { d: displayName }']], fragments: [{ body: 0, spaced: false, spreads: [] }, { body: 1, spaced: true, spreads: [0] }], site: { fields: [], spreads: [1] }, declared: true, spreadAll: true }],
          // A repeat nobody spreads (NoUnusedFragments sees the document as sent); a variable used only in a repeat, undeclared.
          [{ bodies: [['id']], fragments: [{ body: 0, spaced: false, spreads: [] }, { body: 0, spaced: false, spreads: [] }], site: { fields: [], spreads: [0] }, declared: true, spreadAll: false }],
          [{ bodies: [['v: messages(first: $n) { nodes { id } }']], fragments: [{ body: 0, spaced: false, spreads: [] }, { body: 0, spaced: false, spreads: [] }], site: { fields: [], spreads: [1] }, declared: false, spreadAll: true }],
        ],
      },
    );
    // Not vacuous: repeats were merged, and documents both passed and failed.
    expect(seen.merged).toBeGreaterThan(100);
    expect(seen.conflicts).toBeGreaterThan(50);
    expect(seen.clean).toBeGreaterThan(50);
  });

  it('leaves a document alone when nothing repeats or a fragment name is defined twice', () => {
    const plain = parse('query { me { ...A ...B } } fragment A on User { id } fragment B on User { displayName }');
    expect(withoutRepeatedFragments(plain)).toBe(plain);
    const twice = parse('query { me { ...A } } fragment A on User { id } fragment B on User { id } fragment A on User { email }');
    expect(withoutRepeatedFragments(twice)).toBe(twice);
  });
});

describe('through the server', () => {
  const { t, f } = useTestServer({ HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '1000000' });

  it('answers a document with repeated fragments as the same document without repeats (compiled without them)', async () => {
    const member = await f.user();
    const skill = await f.skill();
    for (let i = 0; i < 3; i += 1) {
      const session = await f.session(member);
      await f.message(session);
      if (i % 2 === 0) await f.link(session, skill);
    }
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(runnable, fc.array(fc.constantFrom<'include' | 'skip' | undefined>('include', 'skip', undefined), { maxLength: 20 }), fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }), async (generated, conditions, values) => {
        const repeated = print(generated, { conditions });
        if (validate(schema, parse(repeated), specifiedRules).length) return;
        const variables = Object.fromEntries(values.map((v, k) => [`c${k}`, v]).filter(([name]) => repeated.includes(`$${name}:`)));
        const [merged, apart] = await Promise.all([t.gql(repeated, variables, { as: member }), t.gql(print(generated, { conditions, distinct: true }), variables, { as: member })]);
        // Refused alike (the server's limits: aliases, depth), or the same answer, key order included.
        expect(merged.errors).toEqual(apart.errors);
        if (merged.errors) return;
        expect(JSON.stringify(merged.data)).toBe(JSON.stringify(apart.data));
        compared += 1;
      }),
      { numRuns: 80 },
    );
    expect(compared).toBeGreaterThan(20);
  }, 120_000);

  it('refuses repeated fragments that conflict with a field beside them, with graphql-js\'s message', async () => {
    const member = await f.user();
    const fragments = Array.from({ length: 12 }, (_, i) => `fragment F${i} on Session { id a: title owner { id } }`);
    const query = [`{ sessions(first: 2) { nodes { a: id ${fragments.map((_, i) => `...F${i}`).join(' ')} } } }`, ...fragments].join('\n');
    const result = await t.gql(query, {}, { as: member });
    expect(result.status).toBe(400);
    const expected = messages(validate(schema, parse(query), specifiedRules));
    expect(expected.length).toBeGreaterThan(0);
    expect(messages(result.errors!)).toEqual(expected);
    expect(result.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
