import { ApolloServerErrorCode } from '@apollo/server/errors';
import {
  DocumentNode,
  getOperationAST,
  GraphQLError,
  GraphQLSchema,
  OperationDefinitionNode,
} from 'graphql';
import { badField } from '../errors';
import { OperationGuard } from '../http/operation-guard';

export interface OperationRequest {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
  documentId?: unknown;
  extensions?: unknown;
}

export interface CheckedOperation {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  operationName?: string;
  variables: Record<string, unknown>;
  /** Same text, operation and variables: executed once for all who share it. */
  documentKey: string;
}

export interface OperationLimits {
  /** The checks POST /graphql runs: token limit, fragment limits, validation, cost, trusted documents. */
  guard: OperationGuard;
  /** The longest document accepted, in characters. */
  maxQueryLength: number;
}

/**
 * The operation a live transport received, as the checks read it. graphql-ws and graphql-sse's
 * clients must send `query` as a string, so a trusted document arrives as `documentId` with
 * `query: ""`: an empty text beside a `documentId` is no text (over HTTP, where `query` may be
 * left out, sending both stays DOCUMENT_ID_AND_QUERY).
 */
export function documentRequest(payload: object): OperationRequest {
  const request: OperationRequest = { ...payload };
  if (request.documentId !== undefined && request.documentId !== null && request.query === '') delete request.query;
  return request;
}

function requestError(code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

/**
 * The checks every live operation passes before it runs, the same as POST /graphql: parse, the
 * standard validation rules plus the query limits' (depth, aliases, directives), and the page-size
 * aware cost limit. Only subscriptions are served on the live transports; queries and mutations
 * belong to POST /graphql. Errors carry Apollo's request codes, which `formatError` turns into
 * BAD_USER_INPUT with a `validation` list, exactly as over HTTP.
 */
export async function checkOperation(_schema: GraphQLSchema, limits: OperationLimits, request: OperationRequest, viewerId: string): Promise<CheckedOperation> {
  const { variables, operationName } = request;
  const query = limits.guard.documentText(request);
  if (typeof query !== 'string' || query.length === 0) throw badField('query', 'must be a GraphQL document');
  if (query.length > limits.maxQueryLength) throw badField('query', `must be at most ${limits.maxQueryLength} characters`);
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) throw badField('variables', 'must be an object');
  if (operationName != null && typeof operationName !== 'string') throw badField('operationName', 'must be a string');
  const prepared = await limits.guard.prepare(query, viewerId);
  if (prepared.errors) {
    const [first] = prepared.errors;
    throw requestError(String(first.extensions.code ?? ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED), first.message);
  }
  const { document } = prepared;
  const operation = getOperationAST(document, (operationName as string | undefined) ?? undefined);
  if (!operation) throw requestError(ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE, 'Unable to identify the operation to run');
  if (operation.operation !== 'subscription') {
    throw badField('query', `only subscriptions are served here; send ${operation.operation} operations to POST /graphql`);
  }
  const vars = (variables ?? {}) as Record<string, unknown>;
  limits.guard.checkOperation({ document, operation, variables: vars, transport: 'stream' });
  return {
    document,
    operation,
    operationName: (operationName as string | undefined) ?? undefined,
    variables: vars,
    documentKey: JSON.stringify([query, operationName ?? null, vars]),
  };
}
