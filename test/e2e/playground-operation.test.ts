/**
 * The playground's transport choice (src/http/playground-operation.ts): on generated documents
 * (several operations, named or not, fragments, variables with object defaults, strings, block
 * strings and comments holding braces and keywords), the operation it picks is the one graphql-js
 * picks — so a subscription always goes over the WebSocket, and nothing else does.
 */
import fc from 'fast-check';
import { getOperationAST, parse } from 'graphql';
import { operationOf } from '../../src/http/playground-operation';

const name = fc.constantFrom('A', 'Feed', 'sub', 'query1', 'mutationX', 'on', 'fragmentB', 'subscriptionZ');
const noise = fc.constantFrom('{', '}', '(', ')', '#', 'query', 'subscription', 'mutation X {', '\\"', '"""', '\\', ' ');
const stringValue = fc.array(noise, { maxLength: 6 }).map((parts) => JSON.stringify(parts.join('')));
const blockString = fc.array(noise.filter((p) => p !== '"""' && p !== '\\'), { maxLength: 6 }).map((parts) => `"""${parts.join('')} \\""" """`);
const comment = fc.array(noise, { maxLength: 6 }).map((parts) => `# ${parts.join('').replace(/[\r\n]/g, '')}\n`);
const space = fc.oneof(fc.constantFrom(' ', '\n', ',', '\t'), comment);
const value = fc.oneof(stringValue, blockString, fc.constant('{ a: "}", b: [1, {c: "{"}] }'), fc.constant('3'));

const field: fc.Arbitrary<string> = fc.letrec((tie) => ({
  field: fc.tuple(
    fc.constantFrom('me', 'query', 'subscription', 'node', 'sessions'),
    fc.option(value, { nil: undefined }),
    fc.option(tie('selection'), { nil: undefined }),
    space,
  ).map(([f, arg, sub, s]) => `${f}${arg ? `(x: ${arg})` : ''}${s}${sub ?? ''}`),
  selection: fc.array(tie('field') as fc.Arbitrary<string>, { minLength: 1, maxLength: 3 }).map((fields) => `{ ${fields.join(' ')} }`),
})).field;

const selection = fc.array(field, { minLength: 1, maxLength: 3 }).map((fields) => `{ ${fields.join(' ')} }`);

const definition = fc.oneof(
  fc.record({
    kind: fc.constantFrom('query', 'mutation', 'subscription', 'anonymous'),
    name: fc.option(name, { nil: undefined }),
    variables: fc.option(value, { nil: undefined }),
    directive: fc.option(value, { nil: undefined }),
    selection,
    s: space,
  }),
  fc.record({ kind: fc.constant('fragment'), name: name.filter((n) => n !== 'on'), selection, s: space }),
);

function print(def: { kind: string; name?: string; variables?: string; directive?: string; selection: string; s: string }): string {
  if (def.kind === 'fragment') return `fragment ${def.name}${def.s}on Query ${def.selection}`;
  if (def.kind === 'anonymous') return def.selection;
  const variables = def.variables ? `($v: In = ${def.variables})` : '';
  const directive = def.directive ? ` @d(x: ${def.directive})` : '';
  return `${def.kind}${def.s}${def.name ? `${def.name} ` : ''}${variables}${directive} ${def.selection}`;
}

describe('the playground picks the operation it sends', () => {
  it('as graphql-js does, on generated documents', () => {
    const chosen: Record<string, number> = {};
    fc.assert(
      fc.property(fc.array(definition, { minLength: 1, maxLength: 4 }), fc.option(name, { nil: null }), fc.array(space, { maxLength: 2 }), (defs, operationName, around) => {
        const text = `${around.join('')}${defs.map(print).join('\n')}${around.join('')}`;
        let document;
        try {
          document = parse(text);
        } catch {
          return; // not GraphQL (e.g. two anonymous operations' names): the server answers it
        }
        const expected = getOperationAST(document, operationName);
        const want = expected ? { operation: expected.operation, ...(expected.name ? { name: expected.name.value } : {}) } : undefined;
        chosen[want?.operation ?? 'none'] = (chosen[want?.operation ?? 'none'] ?? 0) + 1;
        expect(operationOf(text, operationName)).toEqual(want);
      }),
      { numRuns: 2000 },
    );
    // The generator reaches every answer, subscriptions most of all, often enough to mean something.
    for (const kind of ['query', 'mutation', 'subscription', 'none']) expect(chosen[kind]).toBeGreaterThan(50);
  });

  it('ignores keywords in strings, block strings and comments', () => {
    const text = '# subscription S { x }\nquery Q($a: String = "subscription { }") { f(x: """ } subscription { """) }';
    expect(operationOf(text)).toEqual({ operation: 'query', name: 'Q' });
  });
});
