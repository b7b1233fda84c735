import { DocumentNode, execute, ExecutionResult, getVariableValues, GraphQLError, GraphQLSchema } from 'graphql';
import { CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { CountStep } from './document-cache';
import { fragmentSpreads, withoutRepeatedFragments } from './repeated-fragments';
import { BoundedMap } from '../common/bounded-map';
import { Executor, Gateway, useAccessorFreeGatewayContexts } from './apollo-internals';

/** Compiled operations kept, least recently used first out. */
const CACHE_SIZE = 1000;

type Compiled = CompiledQuery | null; // null: graphql-jit refused it, graphql-js runs it

/**
 * graphql-jit's errors are look-alikes of graphql-js's (no `nodes`, no extensions when the cause
 * has none, read-only fields); Apollo and `formatError` get real GraphQLErrors with the same
 * message, locations, path, extensions and `originalError`, as graphql-js's `execute` gives them.
 */
function toGraphQLError(error: GraphQLError): GraphQLError {
  if (Object.getPrototypeOf(error) === GraphQLError.prototype) return error;
  const normalized = new GraphQLError(error.message, {
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
  // graphql-js derives locations from AST nodes; graphql-jit computed the same ones at compile time.
  if (error.locations?.length) (normalized as { locations?: GraphQLError['locations'] }).locations = error.locations;
  return normalized;
}

/**
 * Runs operations with graphql-jit instead of graphql-js's `execute`, through Apollo Server's
 * gateway interface (its only hook for a custom executor): Apollo still parses, validates and runs
 * every plugin, then calls the executor. Operations are compiled once per text and operation name,
 * without the document's repeated fragments (an error inside one is located at the first of its
 * kind, whose text is the same); one that graphql-jit will not compile, or would answer wrongly
 * (`fragmentSpreads`), runs on graphql-js. Variables are coerced by graphql-js
 * first, so their errors are exactly those of `execute` (Apollo recognises them as BAD_USER_INPUT).
 */
export function jitGateway(schema: GraphQLSchema, count: CountStep = () => {}): Gateway {
  // The request contexts Apollo makes for this executor: no accessors of their own (apollo-internals.ts).
  useAccessorFreeGatewayContexts();
  const cache = new BoundedMap<string, Compiled>(CACHE_SIZE);

  function compiledFor(key: string, document: DocumentNode, operationName?: string): Compiled {
    let compiled = cache.get(key);
    if (compiled !== undefined) return compiled;
    count('compile');
    try {
      // Repeated fragments add nothing to what runs, and each would be compiled again; merging
      // them is safe only where no spread is conditional, and conditional repeats run on graphql-js.
      const spreads = fragmentSpreads(document);
      const runnable = !spreads.conditional ? withoutRepeatedFragments(document) : spreads.repeated ? undefined : document;
      const result = runnable && compileQuery(schema, runnable, operationName);
      compiled = result && isCompiledQuery(result) ? result : null;
    } catch {
      compiled = null;
    }
    cache.set(key, compiled);
    return compiled;
  }

  const run: Executor = async (requestContext) => {
    const { document, operation, queryHash, request, context } = requestContext;
    const variables = request.variables ?? undefined;
    const viaGraphqlJs = () =>
      execute({ schema, document, contextValue: context, variableValues: variables, operationName: request.operationName ?? undefined });
    // Only queries are compiled: they are the hot path, and a query that graphql-jit fails on can
    // safely run again on graphql-js; a mutation must never run twice. No operation resolved
    // (an unknown operation name): graphql-js gives the error it always gave.
    if (!operation || operation.operation !== 'query') return viaGraphqlJs();
    // The operation Apollo resolved, by its own name ("" or absent means the only one).
    const operationName = operation.name?.value;
    // By the text's sha256, not the text: a thousand 256 kB texts would be kept otherwise.
    const compiled = compiledFor(`${operationName ?? ''}\n${queryHash}`, document, operationName);
    if (!compiled) return viaGraphqlJs();
    if (operation.variableDefinitions?.length) {
      const coerced = getVariableValues(schema, operation.variableDefinitions, variables ?? {}, { maxErrors: 50 });
      if (coerced.errors) return { errors: coerced.errors };
    }
    let result: ExecutionResult;
    try {
      result = await compiled.query(undefined, context, variables);
    } catch {
      return viaGraphqlJs();
    }
    return result.errors ? { ...result, errors: result.errors.map(toGraphQLError) } : result;
  };

  /**
   * A context with `confirmViewer` (a remembered viewer, see src/users/viewer-confirmation.ts)
   * has it awaited before a mutation runs and before any answer leaves: a viewer found gone
   * turns the whole answer into its error (UNAUTHENTICATED, HTTP 401), whatever was read.
   */
  const executor: Executor = async (requestContext) => {
    const confirm = (requestContext.context as { confirmViewer?: () => Promise<void> }).confirmViewer;
    if (!confirm) return run(requestContext);
    const confirmed = () =>
      confirm().then(
        () => undefined,
        (error: unknown) => {
          if (error instanceof GraphQLError) return { errors: [error] };
          throw error;
        },
      );
    if (requestContext.operation?.operation !== 'query') return (await confirmed()) ?? run(requestContext);
    const result = await run(requestContext);
    return (await confirmed()) ?? result;
  };

  return {
    async load() {
      return { schema, executor };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async stop() {},
  };
}
