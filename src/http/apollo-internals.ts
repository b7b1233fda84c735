import path from 'node:path';
import type { ApolloServerOptionsWithGateway, BaseContext, HeaderMap, HTTPGraphQLHead } from '@apollo/server';

/**
 * The one module that reaches into Apollo Server's internals. test/apollo-internals.test.ts checks
 * what it replaces against the installed version, so an upgrade that moves or reshapes it fails
 * there, not silently.
 *
 * Apollo hands a custom executor (ours runs graphql-jit: jit-executor.ts) a request context made
 * by `makeGatewayGraphQLRequestContext`, whose `response.http` is an object literal with a getter
 * and a setter for `status`. V8 (Node 20) gives such a literal accessors of its own, in an
 * accessor pair it allocates in old space: every request made one, and its closures held the
 * whole request (its loaders, rows and result) through every young-generation collection until the
 * next full one. So 15 % of all the server allocated was promoted and scavenges paused 10-20 ms.
 * The replacement is the same function with `response.http` an instance of a class, whose
 * accessors are its prototype's, made once.
 */

export type Gateway = ApolloServerOptionsWithGateway<BaseContext>['gateway'];
export type Executor = NonNullable<Awaited<ReturnType<Gateway['load']>>['executor']>;
type GatewayRequestContext = Parameters<Executor>[0];

/** What the replacement reads of Apollo's request context (GraphQLRequestContext, internal). */
interface RequestContext {
  request: { query?: string; operationName?: string; variables?: Record<string, unknown>; extensions?: Record<string, unknown>; http?: { method: string; search: string; headers: HeaderMap } };
  response: { http: HTTPGraphQLHead };
  schema: unknown;
  contextValue: unknown;
  queryHash?: string;
  document?: unknown;
  source?: string;
  operationName?: string | null;
  operation?: unknown;
  errors?: unknown;
  metrics: unknown;
  overallCachePolicy: unknown;
  requestIsBatched: boolean;
}

/** The module of Apollo's that makes the executor's request context, and its export. */
export const GATEWAY_CONTEXT_MODULE = path.join(path.dirname(require.resolve('@apollo/server')), 'utils', 'makeGatewayGraphQLRequestContext.js');
export const GATEWAY_CONTEXT_EXPORT = 'makeGatewayGraphQLRequestContext';
type MakeGatewayContext = (requestContext: RequestContext, server: { logger: unknown; cache: unknown }, internals: { includeStacktraceInErrorResponses?: boolean }) => GatewayRequestContext;

/** A Fetch-style Headers view of Apollo's HeaderMap, as Apollo's own (which it does not export). */
class HeadersOfMap {
  constructor(private readonly map: HeaderMap) {}
  append(name: string, value: string): void {
    this.map.set(name, this.map.has(name) ? `${this.map.get(name)}, ${value}` : value);
  }
  delete(name: string): void {
    this.map.delete(name);
  }
  get(name: string): string | null {
    return this.map.get(name) ?? null;
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  set(name: string, value: string): void {
    this.map.set(name, value);
  }
  entries(): IterableIterator<[string, string]> {
    return this.map.entries();
  }
  keys(): IterableIterator<string> {
    return this.map.keys();
  }
  values(): IterableIterator<string> {
    return this.map.values();
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.map.entries();
  }
}

/** The response's HTTP head as the executor sees it: its status read and written through. */
class ResponseHead {
  readonly headers: HeadersOfMap;
  constructor(private readonly requestContext: RequestContext) {
    this.headers = new HeadersOfMap(requestContext.response.http.headers);
  }
  get status(): number | undefined {
    return this.requestContext.response.http.status;
  }
  set status(status: number | undefined) {
    this.requestContext.response.http.status = status;
  }
}

/** Apollo's `makeGatewayGraphQLRequestContext` (5.5), with `response.http` a ResponseHead. */
export const makeGatewayContext: MakeGatewayContext = (requestContext, server, internals) => {
  const { request: from } = requestContext;
  const request: Record<string, unknown> = {};
  if ('query' in from) request.query = from.query;
  if ('operationName' in from) request.operationName = from.operationName;
  if ('variables' in from) request.variables = from.variables;
  if ('extensions' in from) request.extensions = from.extensions;
  if (from.http) {
    const search = from.http.search !== '' && !from.http.search.startsWith('?') ? `?${from.http.search}` : from.http.search;
    request.http = { method: from.http.method, url: `https://unknown-url.invalid/${search}`, headers: new HeadersOfMap(from.http.headers) };
  }
  return {
    request,
    response: { http: new ResponseHead(requestContext) },
    logger: server.logger,
    schema: requestContext.schema,
    schemaHash: 'schemaHash no longer exists since Apollo Server 4',
    context: requestContext.contextValue,
    cache: server.cache,
    queryHash: requestContext.queryHash,
    document: requestContext.document,
    source: requestContext.source,
    operationName: requestContext.operationName,
    operation: requestContext.operation,
    errors: requestContext.errors,
    metrics: requestContext.metrics,
    debug: internals.includeStacktraceInErrorResponses,
    overallCachePolicy: requestContext.overallCachePolicy,
    requestIsBatched: requestContext.requestIsBatched,
  } as unknown as GatewayRequestContext;
};

/** Apollo's own maker, kept for the test that compares the two. */
export const apolloGatewayContext: MakeGatewayContext = require(GATEWAY_CONTEXT_MODULE)[GATEWAY_CONTEXT_EXPORT];

/**
 * Makes Apollo's request pipeline build executor contexts with `makeGatewayContext`. The pipeline
 * reads the function from the module's exports at each call, so replacing the export is enough.
 * Throws if Apollo no longer has it where it was.
 */
export function useAccessorFreeGatewayContexts(): void {
  const exported: Record<string, unknown> = require(GATEWAY_CONTEXT_MODULE);
  if (typeof exported[GATEWAY_CONTEXT_EXPORT] !== 'function') throw new Error(`Apollo Server has no ${GATEWAY_CONTEXT_EXPORT} to replace`);
  exported[GATEWAY_CONTEXT_EXPORT] = makeGatewayContext;
}
