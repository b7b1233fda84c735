import { ApolloServerPlugin } from '@apollo/server';
import {
  DocumentNode,
  FragmentDefinitionNode,
  GraphQLError,
  Kind,
  OperationDefinitionNode,
  SelectionSetNode,
  ValueNode,
} from 'graphql';
import { ErrorCode } from '../errors';

/** Items assumed for a connection asked for without `first` (the API's default page size). */
const DEFAULT_PAGE = 20;
/** Items assumed for a plain list field such as `skills` or `nodeSync`. */
const LIST_ESTIMATE = 10;
const LIST_FIELDS = new Set(['skills', 'nodeSync']);

function intValue(node: ValueNode | undefined, variables: Record<string, unknown>): number | undefined {
  if (!node) return undefined;
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) {
    const value = variables[node.name.value];
    return typeof value === 'number' ? value : undefined;
  }
  return undefined;
}

/** The length of a list argument, literal or variable (a lone value is a list of one). */
function listLength(node: ValueNode, variables: Record<string, unknown>): number {
  if (node.kind === Kind.LIST) return node.values.length;
  if (node.kind === Kind.VARIABLE) {
    const value = variables[node.name.value];
    return Array.isArray(value) ? value.length : 1;
  }
  return 1;
}

/**
 * The cost of a selection: every field costs 1, and a field's sub-selection is multiplied by
 * the number of items it can return — its `first` argument, whether a literal or a variable
 * (armor's own cost limit ignores variables), else the default page size.
 */
export function selectionCost(
  selectionSet: SelectionSetNode | undefined,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  seen: ReadonlySet<string> = new Set(),
): number {
  if (!selectionSet) return 0;
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      // `last` pages as `first` does; `nodes(ids:)` returns one object per id.
      const first = selection.arguments?.find((a) => a.name.value === 'first' || a.name.value === 'last');
      const ids = selection.arguments?.find((a) => a.name.value === 'ids');
      const multiplier = first
        ? Math.max(0, intValue(first.value, variables) ?? DEFAULT_PAGE)
        : ids
          ? listLength(ids.value, variables)
          : LIST_FIELDS.has(selection.name.value)
          ? LIST_ESTIMATE
          : 1;
      const childCost = selectionCost(selection.selectionSet, fragments, variables, seen);
      // Connections without an explicit `first` still page (default 20).
      const isConnection = !first && selection.selectionSet?.selections.some(
        (s) => s.kind === Kind.FIELD && (s.name.value === 'edges' || s.name.value === 'nodes'),
      );
      cost += 1 + childCost * (isConnection ? DEFAULT_PAGE : multiplier);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      cost += selectionCost(selection.selectionSet, fragments, variables, seen);
    } else {
      const name = selection.name.value;
      if (seen.has(name) || !fragments[name]) continue; // cycles are a validation error anyway
      cost += selectionCost(fragments[name].selectionSet, fragments, variables, new Set([...seen, name]));
    }
  }
  return cost;
}

export function operationCost(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): number {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  return selectionCost(operation.selectionSet, fragments, variables);
}

/** Rejects an operation whose cost, page sizes included, exceeds `maxCost`, before it runs. */
export function queryCostPlugin(maxCost: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!operation) return;
          const cost = operationCost(document, operation, request.variables ?? {});
          if (cost > maxCost) {
            const message = `Query cost ${cost} exceeds the limit of ${maxCost}: ask for smaller pages or fewer nested lists`;
            throw new GraphQLError(message, {
              extensions: {
                code: ErrorCode.BAD_USER_INPUT,
                validation: [{ field: 'query', message }],
                cost,
                maxCost,
                http: { status: 400 },
              },
            });
          }
        },
      };
    },
  };
}
