import { DocumentNode, FragmentDefinitionNode, Kind, visit } from 'graphql';

/*
 * Fragments that repeat one another, and fragments spread more than once: what validation
 * (src/http/validate-document.ts) and graphql-jit (src/http/jit-executor.ts) need to know of them.
 */

/** The text of a fragment definition after its name: type condition, directives, selection set. */
function bodyText(definition: FragmentDefinitionNode): string | undefined {
  const { loc } = definition;
  const start = definition.typeCondition.loc?.start;
  return loc && start !== undefined ? loc.source.body.slice(start, loc.end) : undefined;
}

/**
 * How a document spreads its fragments: `conditional`, a fragment spread or an inline fragment
 * carries a directive (`@include`, `@skip`); `repeated`, some fragment is spread more than once.
 * Both together are what graphql-jit answers wrongly: it collects a fragment reached twice in one
 * selection set once, under the first path's conditions (zalando-incubator/graphql-jit#111; still
 * so in 0.8.9, with or without its path-based option), so `...F @skip(if: true) ...F` answers
 * without F's fields, where GraphQL answers with them.
 */
export function fragmentSpreads(document: DocumentNode): { conditional: boolean; repeated: boolean } {
  const spread = new Set<string>();
  const found = { conditional: false, repeated: false };
  const check = (node: { directives?: readonly unknown[] }) => {
    if (node.directives?.length) found.conditional = true;
  };
  visit(document, {
    InlineFragment: check,
    FragmentSpread(node) {
      check(node);
      if (spread.has(node.name.value)) found.repeated = true;
      spread.add(node.name.value);
    },
  });
  return found;
}

/**
 * `document` without the fragments whose body reads as an earlier fragment's: their spreads point
 * at the earlier one, their definitions are gone. The document itself when nothing repeats, or
 * when a fragment name is defined twice (UniqueFragmentNamesRule refuses it anyway). What every
 * specified validation rule but NoUnusedFragments checks (a repeat nobody spreads would go
 * unnoticed; see validate-document.ts), what the field comparisons are counted on
 * (checkFieldOverlap), and what graphql-jit compiles when nothing spreads conditionally (two
 * spreads made one would answer as the first: see `fragmentSpreads`).
 */
export function withoutRepeatedFragments(document: DocumentNode): DocumentNode {
  const firstWithBody = new Map<string, string>();
  const names = new Set<string>();
  const renamed = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.FRAGMENT_DEFINITION) continue;
    const name = definition.name.value;
    if (names.has(name)) return document;
    names.add(name);
    const body = bodyText(definition);
    if (body === undefined) continue;
    const first = firstWithBody.get(body);
    if (first === undefined) firstWithBody.set(body, name);
    else renamed.set(name, first);
  }
  if (!renamed.size) return document;
  const definitions = document.definitions.filter((d) => d.kind !== Kind.FRAGMENT_DEFINITION || !renamed.has(d.name.value));
  return visit(
    { ...document, definitions },
    {
      FragmentSpread(node) {
        const first = renamed.get(node.name.value);
        return first === undefined ? undefined : { ...node, name: { ...node.name, value: first } };
      },
    },
  );
}
