import { DocumentNode, FragmentDefinitionNode, GraphQLError, GraphQLSchema, Kind, OverlappingFieldsCanBeMergedRule, validate, ValidationRule, visit } from 'graphql';

/**
 * graphql-js's `validate` over `rules`, with one difference in how much work it does:
 * OverlappingFieldsCanBeMergedRule sees the document with each repeated fragment as one.
 *
 * That rule compares every pair of fields that share a response name, fragments expanded, and
 * every pair of fragments spread together: a page of codegen fragments that repeat one another
 * (a hundred on Session in the first-sight document of bench/documents.ts) is some 80,000
 * comparisons, about 10 ms of a request. Two fragments whose definitions read the same (type
 * condition, directives and selection set, character for character) can only conflict with each
 * other where one conflicts with itself, which the rule checks on its own; and they conflict with
 * a third field or fragment exactly as either one does. So the rule's verdict on the document is
 * its verdict with every spread of a repeat pointing at the first of its kind; its errors point at
 * that first fragment's fields (same text, same message).
 */
export function documentValidator(schema: GraphQLSchema, rules: readonly ValidationRule[]) {
  const mergeRule = rules.includes(OverlappingFieldsCanBeMergedRule) ? [OverlappingFieldsCanBeMergedRule] : [];
  const others = rules.filter((rule) => rule !== OverlappingFieldsCanBeMergedRule);
  return (document: DocumentNode, options?: { maxErrors?: number }): readonly GraphQLError[] => {
    const errors = validate(schema, document, others, options);
    if (!mergeRule.length) return errors;
    const merged = validate(schema, repeatsAsFirst(document), mergeRule, options);
    return merged.length ? [...errors, ...merged].slice(0, options?.maxErrors ?? Infinity) : errors;
  };
}

/** The text of a fragment definition after its name: type condition, directives, selection set. */
function bodyText(definition: FragmentDefinitionNode): string | undefined {
  const { loc } = definition;
  const start = definition.typeCondition.loc?.start;
  return loc && start !== undefined ? loc.source.body.slice(start, loc.end) : undefined;
}

/**
 * `document` with each spread of a fragment whose body reads as an earlier one's pointing at the
 * earlier one (the repeats stay defined, unused). The document itself when nothing repeats, or
 * when a fragment name is defined twice (UniqueFragmentNamesRule refuses it anyway).
 */
export function repeatsAsFirst(document: DocumentNode): DocumentNode {
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
  return visit(document, {
    FragmentSpread(node) {
      const first = renamed.get(node.name.value);
      return first === undefined ? undefined : { ...node, name: { ...node.name, value: first } };
    },
  });
}
