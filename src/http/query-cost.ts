import {
  DocumentNode,
  getNamedType,
  getNullableType,
  getVariableValues,
  GraphQLError,
  GraphQLField,
  GraphQLSchema,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  OperationDefinitionNode,
  TypeInfo,
  typeFromAST,
  validate,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { ComplexityEstimator, createComplexityRule } from 'graphql-query-complexity';
import { ErrorCode } from '../errors';
import { BoundedMap } from '../common/bounded-map';

/**
 * The cost of an operation, computed by graphql-query-complexity on the operation that will run:
 * variables coerced by graphql-js with their defaults (a `$first: Int = 100` that is not sent
 * counts 100), fragment spreads and inline fragments expanded, `@skip`/`@include` applied, and an
 * abstract type counted as its most expensive possible type.
 *
 * Every field costs 1. A field that returns many objects multiplies its sub-selection by how many
 * it can return; which fields those are is read from the schema, never from field names:
 * - a field returning a `…Connection` type or a list: its `first`/`last` argument, else the length
 *   of a list argument (`nodes(ids: …)`), else the `assumedSize` its definition states with
 *   `@listSize` (`activity`'s 1,000 buckets), else the API's default page size;
 * - a list field of a `…Connection` type (`edges`, `nodes`): 1, its connection already counted the page;
 * - introspection (`__schema`, `__type`): not multiplied; it is bounded by the schema and off in production.
 * A text field that can be long costs one more unit per TEXT_CHARS_PER_UNIT characters its definition's
 * `@textSize(maxLength:)` allows (a message's content: 32 units), so the limit bounds the bytes an
 * answer can hold, not only its objects: aliases and repeated ids in `nodes(ids:)` multiply it like
 * any field. What an answer really holds is bounded again when it is sent (response-size.ts).
 * The promise, tested against real data with generated documents: the estimate is never below the
 * number of objects the response holds, as long as plain lists without `first` (a session's skills,
 * its node sync rows) hold no more than the default page size.
 */
export function costEstimator(defaultPageSize: number): ComplexityEstimator {
  return ({ type, field, args, childComplexity }) => {
    if (type.name.startsWith('__') || field.name.startsWith('__')) return 1 + childComplexity;
    return 1 + textUnitsOf(field) + childComplexity * itemsOf(type.name, field, args, defaultPageSize);
  };
}

/**
 * The characters of long text an operation can return: each `@textSize(maxLength: N)` field counts
 * N, multiplied like the cost by the items of the lists around it (pages, repeated ids, aliases).
 * What the response-size limit will find only once the answer is built, known before it runs
 * (response-size.ts turns it into bytes: see `canExceedResponseLimit`).
 */
export function textCharsEstimator(defaultPageSize: number): ComplexityEstimator {
  return ({ type, field, args, childComplexity }) => {
    if (type.name.startsWith('__') || field.name.startsWith('__')) return childComplexity;
    return textCharsOf(field) + childComplexity * itemsOf(type.name, field, args, defaultPageSize);
  };
}

/** Characters of a long text field that cost one unit (see costEstimator). */
export const TEXT_CHARS_PER_UNIT = 1024;

/** The extra units of a text field: its `@textSize(maxLength: N)` in the schema's SDL, per TEXT_CHARS_PER_UNIT. */
function textUnitsOf(field: GraphQLField<unknown, unknown>): number {
  return Math.ceil(textCharsOf(field) / TEXT_CHARS_PER_UNIT);
}

/** The `@textSize(maxLength: N)` of a field's definition in the schema's SDL; 0 without one. */
function textCharsOf(field: GraphQLField<unknown, unknown>): number {
  return intArgumentOf(field, 'textSize', 'maxLength') ?? 0;
}

/** An Int argument of a directive on a field's definition in the schema's SDL, if present. */
function intArgumentOf(field: GraphQLField<unknown, unknown>, directiveName: string, argumentName: string): number | undefined {
  const directive = field.astNode?.directives?.find((d) => d.name.value === directiveName);
  const argument = directive?.arguments?.find((a) => a.name.value === argumentName);
  return argument?.value.kind === Kind.INT ? Number(argument.value.value) : undefined;
}

const isConnectionName = (name: string) => /.Connection$/.test(name);

/** Whether a field's count of items, hence its arguments, can change the estimate (see itemsOf). */
function countsItems(parent: string, field: GraphQLField<unknown, unknown>): boolean {
  const list = isListType(getNullableType(field.type));
  if (list) return !isConnectionName(parent);
  const named = getNamedType(field.type);
  return isObjectType(named) && isConnectionName(named.name);
}

function itemsOf(parent: string, field: GraphQLField<unknown, unknown>, args: Record<string, unknown>, defaultPageSize: number): number {
  if (!countsItems(parent, field)) return 1;
  for (const name of ['first', 'last']) {
    const value = args[name];
    if (typeof value === 'number') return Math.max(0, value);
  }
  const lengths = Object.values(args).filter(Array.isArray).map((value) => value.length);
  if (lengths.length) return Math.max(...lengths);
  return assumedSizeOf(field) ?? defaultPageSize;
}

/** The `@listSize(assumedSize: N)` of a field's definition in the schema's SDL, if it has one. */
function assumedSizeOf(field: GraphQLField<unknown, unknown>): number | undefined {
  return intArgumentOf(field, 'listSize', 'assumedSize');
}

/** Selections visited once fragments are expanded; beyond it the cost is not computed but refused. */
const MAX_COST_NODES = 10_000;

/** What an operation can return, estimated before it runs (Infinity: too big to count). */
export interface OperationEstimate {
  /** The cost units (costEstimator), checked against HUB_MAX_QUERY_COST. */
  cost: number;
  /** The characters of long text it can return (textCharsEstimator). */
  textChars: number;
}

/**
 * The operation's cost, or undefined when its variables do not coerce (then nothing runs:
 * execution answers the variable errors).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  defaultPageSize: number,
): number | undefined {
  return operationEstimate(schema, document, operation, variables, defaultPageSize)?.cost;
}

/** The operation's cost and long-text estimate, from one walk of the document; undefined as operationCost. */
export function operationEstimate(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  defaultPageSize: number,
): OperationEstimate | undefined {
  // Only the operation that runs, with the fragments it may use.
  const only: DocumentNode = {
    ...document,
    definitions: document.definitions.filter((d) => d === operation || d.kind === 'FragmentDefinition'),
  };
  // graphql-query-complexity's rule rather than its getComplexity(), which throws the last error
  // it met: an argument that does not coerce only skips that field (it will not run either).
  // Both estimates are rules of the same validation pass.
  const estimate: OperationEstimate = { cost: 0, textChars: 0 };
  const rule = (estimator: ComplexityEstimator, onComplete: (complexity: number) => void) =>
    createComplexityRule({
      maximumComplexity: Number.MAX_SAFE_INTEGER,
      estimators: [estimator],
      variables: variables ?? {},
      operationName: operation.name?.value,
      maxQueryNodes: MAX_COST_NODES,
      onComplete,
    });
  let errors;
  try {
    errors = validate(
      schema,
      only,
      [rule(costEstimator(defaultPageSize), (cost) => (estimate.cost = cost)), rule(textCharsEstimator(defaultPageSize), (chars) => (estimate.textChars = chars))],
      { maxErrors: 1000 },
    );
  } catch (error) {
    // The node limit, met while expanding fragments: too big to count, so too big to run.
    if (error instanceof GraphQLError) return { cost: Infinity, textChars: Infinity };
    throw error;
  }
  if (errors.some((error) => /^Variable "\$/.test(error.message))) return undefined;
  return estimate;
}

/**
 * The variables an operation's estimate can depend on: those inside a directive (`@skip`,
 * `@include`), inside an argument of a field that counts items (a page size, a list of ids), and
 * any nullable variable in a non-null position (an explicit null there makes the field's arguments
 * fail to coerce, and the estimate skips the field). Every other variable (an id, a cursor, a
 * filter of a single object) leaves the estimate unchanged once the variables coerce.
 */
export function costVariables(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): string[] {
  const declared = new Map((operation.variableDefinitions ?? []).map((d) => [d.variable.name.value, d.type]));
  const found = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  let inDirective = 0;
  let countingArguments = 0;
  const fieldStack: boolean[] = [];
  const only: DocumentNode = { ...document, definitions: document.definitions.filter((d) => d === operation || d.kind === Kind.FRAGMENT_DEFINITION) };
  visit(
    only,
    visitWithTypeInfo(typeInfo, {
      Directive: { enter: () => void (inDirective += 1), leave: () => void (inDirective -= 1) },
      Field: {
        enter() {
          const parent = typeInfo.getParentType();
          const field = typeInfo.getFieldDef();
          const counts = !!parent && !!field && countsItems(parent.name, field);
          fieldStack.push(counts);
          if (counts) countingArguments += 1;
        },
        leave() {
          if (fieldStack.pop()) countingArguments -= 1;
        },
      },
      // A field's sub-selection is not its arguments: only the arguments of a counting field count.
      SelectionSet: {
        enter: () => void fieldStack.push(false),
        leave: () => void fieldStack.pop(),
      },
      Variable(node) {
        const name = node.name.value;
        const expected = typeInfo.getInputType();
        const definition = declared.get(name);
        const declaredType = definition && typeFromAST(schema, definition);
        const mayBeNullWhereNotAllowed = !!expected && isNonNullType(expected) && !(declaredType && isNonNullType(declaredType));
        if (inDirective > 0 || argumentOfCountingField(fieldStack) || mayBeNullWhereNotAllowed) found.add(name);
      },
    }),
  );
  return [...found].filter((name) => declared.has(name)).sort();
}

/** Whether the innermost field or selection set on the stack is a counting field's arguments. */
function argumentOfCountingField(stack: boolean[]): boolean {
  return stack.length > 0 && stack[stack.length - 1];
}

/** Estimates remembered per operation, one for each set of values of its cost variables. */
const ESTIMATES_PER_OPERATION = 64;
/** The longest key worth remembering (a list of ids as a cost variable can be long): beyond, walked each time. */
const MAX_ESTIMATE_KEY = 1024;

type CostPlan = { variables: string[]; estimates: BoundedMap<string, OperationEstimate> };

/**
 * Operation costs, remembered (see operationEstimates); the cost alone.
 */
export function costEstimates(schema: GraphQLSchema, defaultPageSize: number, onWalk: () => void = () => {}) {
  const estimates = operationEstimates(schema, defaultPageSize, onWalk);
  return (document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): number | undefined =>
    estimates(document, operation, variables)?.cost;
}

/**
 * Operation estimates, remembered. The estimate is a walk of the operation with its fragments expanded
 * (graphql-query-complexity runs as a validation rule): for a 14 kB document of ninety fragment
 * spreads it is most of a repeated request's CPU, the one step a cached document still repeated.
 * It is a pure function of the document, the operation and the values of its cost variables
 * (`costVariables`: the long-text estimate multiplies by the same items, so depends on the same
 * ones), so it is kept per document object (cached documents are the same object on every
 * request, so the entries go when the document cache drops the document) and per values.
 * `onWalk` is called for each walk actually run (metrics and tests count them).
 */
export function operationEstimates(schema: GraphQLSchema, defaultPageSize: number, onWalk: () => void = () => {}) {
  const plans = new WeakMap<DocumentNode, Map<OperationDefinitionNode, CostPlan>>();
  return (document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): OperationEstimate | undefined => {
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 1 });
    // Variables that do not coerce: nothing runs (execution answers their errors).
    if (coerced.errors) return undefined;
    let byOperation = plans.get(document);
    if (!byOperation) plans.set(document, (byOperation = new Map()));
    let plan = byOperation.get(operation);
    if (!plan) byOperation.set(operation, (plan = { variables: costVariables(schema, document, operation), estimates: new BoundedMap(ESTIMATES_PER_OPERATION) }));
    // Absent and null differ (a default applies to the one, not the other): absent is left out.
    const key = JSON.stringify(plan.variables.map((name) => (name in coerced.coerced ? [name, coerced.coerced[name]] : [name])));
    const known = plan.estimates.get(key);
    if (known !== undefined) return known;
    onWalk();
    const estimate = operationEstimate(schema, document, operation, variables, defaultPageSize);
    if (estimate === undefined || key.length > MAX_ESTIMATE_KEY) return estimate;
    plan.estimates.set(key, estimate);
    return estimate;
  };
}

/** Refuses an operation whose cost, page sizes included, exceeds the maximum, before it runs; returns the cost. */
export function checkCost(cost: number | undefined, maxCost: number): number | undefined {
  if (cost === undefined || cost <= maxCost) return cost;
  const shown = Number.isFinite(cost) ? cost : `over ${MAX_COST_NODES} selections`;
  const message = `Query cost ${shown} exceeds the limit of ${maxCost}: ask for smaller pages or fewer nested lists`;
  throw new GraphQLError(message, {
    extensions: {
      code: ErrorCode.BAD_USER_INPUT,
      reason: 'QUERY_COST',
      validation: [{ field: 'query', message }],
      cost: Number.isFinite(cost) ? cost : null,
      maxCost,
      http: { status: 400 },
    },
  });
}
