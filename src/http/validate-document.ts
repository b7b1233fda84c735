import { DocumentNode, GraphQLError, GraphQLSchema, NoUnusedFragmentsRule, specifiedRules, validate, ValidationRule } from 'graphql';
import { withoutRepeatedFragments } from './repeated-fragments';

/**
 * graphql-js's `validate` with its specified rules and `extra` ones, split by what they must see:
 * - the document as sent: rules that count it as written (`extra.asSent`: graphql-armor's aliases,
 *   directives, depth) or that look for a fragment nobody spreads (NoUnusedFragmentsRule);
 * - the document without its repeated fragments (`withoutRepeatedFragments`): every other
 *   specified rule, and `extra.rules`; each judges a node by its own text, or what an operation
 *   reaches through its spreads.
 *
 * Two fragments whose definitions read the same (type condition, directives and selection set,
 * character for character) are the same to such a rule: a field, argument or variable wrong in one
 * is wrong in the first, which stays; a spread of a repeat now spreads the first, which reaches the
 * same fields and variables (so a variable used, unused or undefined stays so, and a cycle through
 * repeats is a cycle through the firsts); and two repeats can conflict (OverlappingFieldsCanBeMerged)
 * only where one conflicts with itself. So the verdict is graphql-js's. The work is not: a page of
 * codegen fragments that repeat one another (the first-sight document of bench/documents.ts: a
 * hundred on Session) made the field-merge rule compare 4,950 fragment pairs and every other rule
 * walk a hundred copies, some 10 ms of a request. Errors are graphql-js's messages, once for all
 * copies, at the first copy's nodes (a conflict may name its two fields in the other order).
 */
export function documentValidator(schema: GraphQLSchema, extra: { rules: readonly ValidationRule[]; asSent: readonly ValidationRule[] }) {
  const rules = [...specifiedRules.filter((rule) => rule !== NoUnusedFragmentsRule), ...extra.rules];
  const asSentRules = [NoUnusedFragmentsRule, ...extra.asSent];
  /** `merged`: `withoutRepeatedFragments(document)`, when the caller has it already. */
  return (document: DocumentNode, options?: { maxErrors?: number; merged?: DocumentNode }): readonly GraphQLError[] => {
    const merged = options?.merged ?? withoutRepeatedFragments(document);
    const errors = validate(schema, merged, rules, options);
    const asSent = validate(schema, document, asSentRules, options);
    return asSent.length ? [...errors, ...asSent].slice(0, options?.maxErrors ?? Infinity) : errors;
  };
}
