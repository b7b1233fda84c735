import { DocumentNode, GraphQLError, GraphQLSchema, OverlappingFieldsCanBeMergedRule, validate, ValidationRule } from 'graphql';
import { withoutRepeatedFragments } from './repeated-fragments';

/**
 * graphql-js's `validate` over `rules`, with one difference in how much work it does:
 * OverlappingFieldsCanBeMergedRule sees the document without its repeated fragments
 * (`withoutRepeatedFragments`), every other rule the document as sent.
 *
 * That rule compares every pair of fields that share a response name, fragments expanded, and
 * every pair of fragments spread together: a page of codegen fragments that repeat one another
 * (a hundred on Session in the first-sight document of bench/documents.ts) is some 80,000
 * comparisons, about 10 ms of a request. Two fragments whose definitions read the same (type
 * condition, directives and selection set, character for character) can only conflict with each
 * other where one conflicts with itself, which the rule checks in the first; and they conflict
 * with a third field or fragment exactly as either one does. So the rule's verdict on the
 * document is its verdict without the repeats; its errors point at the first fragment's fields
 * (same text, same message, the two names of a conflict perhaps in the other order).
 */
export function documentValidator(schema: GraphQLSchema, rules: readonly ValidationRule[]) {
  const mergeRule = rules.includes(OverlappingFieldsCanBeMergedRule) ? [OverlappingFieldsCanBeMergedRule] : [];
  const others = rules.filter((rule) => rule !== OverlappingFieldsCanBeMergedRule);
  /** `merged`: `withoutRepeatedFragments(document)`, when the caller has it already. */
  return (document: DocumentNode, options?: { maxErrors?: number; merged?: DocumentNode }): readonly GraphQLError[] => {
    const errors = validate(schema, document, others, options);
    if (!mergeRule.length) return errors;
    const conflicts = validate(schema, options?.merged ?? withoutRepeatedFragments(document), mergeRule, options);
    return conflicts.length ? [...errors, ...conflicts].slice(0, options?.maxErrors ?? Infinity) : errors;
  };
}
