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

/** Whether a fragment spread or an inline fragment carries a directive (`@include`, `@skip`). */
function spreadsConditionally(document: DocumentNode): boolean {
  let found = false;
  const check = (node: { directives?: readonly unknown[] }) => {
    if (node.directives?.length) found = true;
  };
  visit(document, { FragmentSpread: check, InlineFragment: check });
  return found;
}

/**
 * Whether a fragment is spread more than once in a document that spreads conditionally. graphql-jit
 * collects a fragment reached twice in one selection set once, under the first path's conditions
 * (zalando-incubator/graphql-jit#111; still so in 0.8.9, with or without its path-based option):
 * `...F @skip(if: true) ...F` answers without F's fields, where GraphQL answers with them.
 */
export function repeatsConditionalSpreads(document: DocumentNode): boolean {
  const spread = new Set<string>();
  let twice = false;
  visit(document, {
    FragmentSpread(node) {
      if (spread.has(node.name.value)) twice = true;
      spread.add(node.name.value);
    },
  });
  return twice && spreadsConditionally(document);
}

/**
 * `document` without the fragments whose body reads as an earlier fragment's: their spreads point
 * at the earlier one, their definitions are gone. The document itself when nothing repeats, or
 * when a fragment name is defined twice (UniqueFragmentNamesRule refuses it anyway). What
 * OverlappingFieldsCanBeMergedRule checks, and what its comparisons are counted on
 * (checkFieldOverlap); no other rule may see it (a repeat never spread would go unnoticed).
 * For execution (`execution`), also the document itself when a spread or an inline fragment
 * carries a directive: graphql-jit collects a fragment once, under its first spread's
 * conditions, so two spreads made one would answer as the first (`...A @skip(if: true) ...B`).
 */
export function withoutRepeatedFragments(document: DocumentNode, options: { execution?: boolean } = {}): DocumentNode {
  if (options.execution && spreadsConditionally(document)) return document;
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
