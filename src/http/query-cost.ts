import {
  DocumentNode,
  validate,
  getNamedType,
  getNullableType,
  GraphQLError,
  GraphQLField,
  GraphQLSchema,
  isListType,
  isObjectType,
  OperationDefinitionNode,
} from 'graphql';
import { ComplexityEstimator, createComplexityRule } from 'graphql-query-complexity';
import { ErrorCode } from '../errors';

/**
 * The cost of an operation, computed by graphql-query-complexity on the operation that will run:
 * variables coerced by graphql-js with their defaults (a `$first: Int = 100` that is not sent
 * counts 100), fragment spreads and inline fragments expanded, `@skip`/`@include` applied, and an
 * abstract type counted as its most expensive possible type.
 *
 * Every field costs 1. A field that returns many objects multiplies its sub-selection by how many
 * it can return; which fields those are is read from the schema, never from field names:
 * - a field returning a `…Connection` type or a list: its `first`/`last` argument, else the length
 *   of a list argument (`nodes(ids: …)`), else the API's default page size;
 * - a list field of a `…Connection` type (`edges`, `nodes`): 1, its connection already counted the page;
 * - introspection (`__schema`, `__type`): not multiplied; it is bounded by the schema and off in production.
 * The promise, tested against real data with generated documents: the estimate is never below the
 * number of objects the response holds, as long as plain lists without `first` (a session's skills,
 * its node sync rows) hold no more than the default page size.
 */
export function costEstimator(defaultPageSize: number): ComplexityEstimator {
  return ({ type, field, args, childComplexity }) => {
    if (type.name.startsWith('__') || field.name.startsWith('__')) return 1 + childComplexity;
    return 1 + childComplexity * itemsOf(type.name, field, args, defaultPageSize);
  };
}

const isConnectionName = (name: string) => /.Connection$/.test(name);

function itemsOf(parent: string, field: GraphQLField<unknown, unknown>, args: Record<string, unknown>, defaultPageSize: number): number {
  const list = isListType(getNullableType(field.type));
  if (list && isConnectionName(parent)) return 1;
  const named = getNamedType(field.type);
  if (!list && !(isObjectType(named) && isConnectionName(named.name))) return 1;
  for (const name of ['first', 'last']) {
    const value = args[name];
    if (typeof value === 'number') return Math.max(0, value);
  }
  const lengths = Object.values(args).filter(Array.isArray).map((value) => value.length);
  if (lengths.length) return Math.max(...lengths);
  return defaultPageSize;
}

/** Selections visited once fragments are expanded; beyond it the cost is not computed but refused. */
const MAX_COST_NODES = 10_000;

export interface CostOptions {
  maxCost: number;
  defaultPageSize: number;
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
  // Only the operation that runs, with the fragments it may use.
  const only: DocumentNode = {
    ...document,
    definitions: document.definitions.filter((d) => d === operation || d.kind === 'FragmentDefinition'),
  };
  // graphql-query-complexity's rule rather than its getComplexity(), which throws the last error
  // it met: an argument that does not coerce only skips that field (it will not run either).
  let cost = 0;
  const rule = createComplexityRule({
    maximumComplexity: Number.MAX_SAFE_INTEGER,
    estimators: [costEstimator(defaultPageSize)],
    variables: variables ?? {},
    operationName: operation.name?.value,
    maxQueryNodes: MAX_COST_NODES,
    onComplete: (complexity) => (cost = complexity),
  });
  let errors;
  try {
    errors = validate(schema, only, [rule], { maxErrors: 1000 });
  } catch (error) {
    // The node limit, met while expanding fragments: too big to count, so too big to run.
    if (error instanceof GraphQLError) return Infinity;
    throw error;
  }
  if (errors.some((error) => /^Variable "\$/.test(error.message))) return undefined;
  return cost;
}

/** Variable sets remembered per document, and the longest variables text worth remembering. */
const COSTS_PER_DOCUMENT = 64;
const MAX_VARIABLES_KEY = 1024;
const costs = new WeakMap<DocumentNode, Map<string, number | undefined>>();

/**
 * `operationCost`, remembered per cached document (the document cache hands out the same syntax
 * tree for the same text) and variable values: a dashboard polling with the same variables is
 * estimated once, not walked again on every request.
 */
function rememberedCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  defaultPageSize: number,
): number | undefined {
  const key = `${operation.name?.value ?? ''}\n${JSON.stringify(variables ?? {})}`;
  if (key.length > MAX_VARIABLES_KEY) return operationCost(schema, document, operation, variables, defaultPageSize);
  let known = costs.get(document);
  if (known?.has(key)) return known.get(key);
  const cost = operationCost(schema, document, operation, variables, defaultPageSize);
  if (!known || known.size >= COSTS_PER_DOCUMENT) costs.set(document, (known = new Map()));
  known.set(key, cost);
  return cost;
}

/** Refuses an operation whose cost, page sizes included, exceeds the maximum, before it runs; returns the cost. */
export function checkCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  { maxCost, defaultPageSize }: CostOptions,
): number | undefined {
  const cost = rememberedCost(schema, document, operation, variables, defaultPageSize);
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
