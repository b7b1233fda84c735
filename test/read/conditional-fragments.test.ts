/**
 * `@skip`/`@include` on fragments answer as GraphQL says, whatever the document: a fragment spread
 * twice in one selection set, once under a condition (`...F @skip(if: true) ...F`), gave `{}`
 * for want of F's fields (graphql-jit collects it once, under the first path's conditions). Over
 * generated documents (fragments spreading fragments, spreads and inline fragments under
 * conditions, the same fragment reached on several paths), the server's answer equals its answer
 * to the same document with every named spread written out as an inline fragment.
 */
import fc from 'fast-check';
import { parse, specifiedRules, validate } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { resolvers, typeDefs } from '../../src/schema';
import { useTestServer } from '../harness';

const { t, f } = useTestServer({ HUB_MAX_NEW_DOCUMENTS_PER_MINUTE: '1000000' });
const schema = makeExecutableSchema({ typeDefs: typeDefs(), resolvers: resolvers() });

const FIELDS = ['id', 'title', 'messageCount', 'owner { id }', 'owner { displayName }', 'skills { id }'];
const VARIABLES = 4;

type Condition = { directive: 'skip' | 'include'; variable: number } | null;
/** A selection: a field, a spread of fragment `fragment`, or an inline fragment around such a spread. */
type Selection = { field: string } | { fragment: number; condition: Condition; inline: boolean; inlineCondition: Condition };
interface Doc {
  fragments: { fields: string[]; spreads: number[] }[];
  site: Selection[];
}

const condition: fc.Arbitrary<Condition> = fc.option(fc.record({ directive: fc.constantFrom<'skip' | 'include'>('skip', 'include'), variable: fc.nat(VARIABLES - 1) }), { freq: 2 });
const doc: fc.Arbitrary<Doc> = fc.integer({ min: 1, max: 4 }).chain((count) =>
  fc.record({
    fragments: fc.tuple(...Array.from({ length: count }, (_, i) => fc.record({ fields: fc.subarray(FIELDS, { minLength: 1, maxLength: 2 }), spreads: i === 0 ? fc.constant<number[]>([]) : fc.subarray(Array.from({ length: i }, (_, j) => j), { maxLength: Math.min(i, 2) }) }))),
    site: fc.array(
      fc.oneof(
        fc.record({ field: fc.constantFrom(...FIELDS) }),
        { weight: 3, arbitrary: fc.record({ fragment: fc.nat(count - 1), condition, inline: fc.boolean(), inlineCondition: condition }) },
      ),
      { minLength: 1, maxLength: 6 },
    ),
  }),
);

const directive = (c: Condition) => (c ? ` @${c.directive}(if: $c${c.variable})` : '');

/** The document; `inlined`: every named spread written out as an inline fragment of its fields. */
function print({ fragments, site }: Doc, inlined: boolean): string {
  const spread = (i: number, c: Condition): string =>
    inlined ? `... on Session${directive(c)} { ${[...fragments[i].fields, ...fragments[i].spreads.map((j) => spread(j, null))].join(' ')} }` : `...F${i}${directive(c)}`;
  const selections = site.map((s) => ('field' in s ? s.field : s.inline ? `...${directive(s.inlineCondition)} { ${spread(s.fragment, s.condition)} }` : spread(s.fragment, s.condition)));
  const definitions = inlined ? [] : fragments.map((fr, i) => `fragment F${i} on Session { ${[...fr.fields, ...fr.spreads.map((j) => `...F${j}`)].join(' ')} }`);
  const body = selections.join(' ');
  const used = Array.from({ length: VARIABLES }, (_, k) => k).filter((k) => body.includes(`$c${k})`));
  const head = used.length ? `query Q(${used.map((k) => `$c${k}: Boolean!`).join(', ')})` : 'query Q';
  return [`${head} { sessions(first: 2) { nodes { ${body} } } }`, ...definitions].join('\n');
}

it('answers a document with conditional and repeated fragment spreads as with its fragments written inline', async () => {
  const member = await f.user();
  const skill = await f.skill();
  for (let i = 0; i < 2; i += 1) await f.link(await f.session(member), skill);
  const seen = { compared: 0, repeatedUnderCondition: 0 };
  await fc.assert(
    fc.asyncProperty(doc, fc.array(fc.boolean(), { minLength: VARIABLES, maxLength: VARIABLES }), async (generated, values) => {
      const named = print(generated, false);
      // A fragment never spread: invalid alike.
      if (validate(schema, parse(named), specifiedRules).length) return;
      const variables = Object.fromEntries(values.map((v, k) => [`c${k}`, v]).filter(([name]) => named.includes(`$${name}:`)));
      const [answer, inline] = await Promise.all([t.gql(named, variables, { as: member }), t.gql(print(generated, true), variables, { as: member })]);
      expect(answer.errors).toEqual(inline.errors);
      if (answer.errors) return;
      // Values, not key order: graphql-jit places a conditional inline fragment's fields where
      // they would be had it been included (`... @skip(if: true) { id } title ... { id }` as id, title).
      expect(answer.data).toEqual(inline.data);
      seen.compared += 1;
      const spreads = [...named.matchAll(/\.\.\.F(\d+)/g)].map((m) => m[1]);
      if (new Set(spreads).size < spreads.length && /@(skip|include)/.test(named)) seen.repeatedUnderCondition += 1;
    }),
    {
      numRuns: 150,
      examples: [
        // The reported shapes: the same fragment twice, once skipped; once inside a skipped inline fragment.
        [{ fragments: [{ fields: ['id'], spreads: [] }], site: [{ fragment: 0, condition: { directive: 'skip', variable: 0 }, inline: false, inlineCondition: null }, { fragment: 0, condition: null, inline: false, inlineCondition: null }] }, [true, true, true, true]],
        [{ fragments: [{ fields: ['id'], spreads: [] }], site: [{ fragment: 0, condition: null, inline: true, inlineCondition: { directive: 'include', variable: 0 } }, { fragment: 0, condition: null, inline: false, inlineCondition: null }] }, [false, true, true, true]],
      ],
    },
  );
  // Not vacuous: many answers compared, many of them with a fragment spread twice under a condition.
  expect(seen.compared).toBeGreaterThan(40);
  expect(seen.repeatedUnderCondition).toBeGreaterThan(10);
}, 120_000);
