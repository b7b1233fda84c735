/**
 * src/http/apollo-internals.ts replaces Apollo's `makeGatewayGraphQLRequestContext`: the installed
 * Apollo still has it where it is replaced, the replacement makes what Apollo's makes, and (the
 * reason for it) nothing it makes has an accessor of its own. V8 keeps an own accessor's pair in
 * old space, so its closures, and the request they hold, outlive every young-generation collection.
 */
import fc from 'fast-check';
import { HeaderMap } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { apolloGatewayContext, GATEWAY_CONTEXT_EXPORT, GATEWAY_CONTEXT_MODULE, makeGatewayContext } from '../src/http/apollo-internals';
import { jitGateway } from '../src/http/jit-executor';

/** Paths of own accessor properties in an object graph (each object visited once). */
function ownAccessors(root: unknown, seen = new Set<unknown>(), at = 'context'): string[] {
  if (root === null || typeof root !== 'object' || seen.has(root)) return [];
  seen.add(root);
  return Object.entries(Object.getOwnPropertyDescriptors(root)).flatMap(([key, descriptor]) =>
    descriptor.get || descriptor.set ? [`${at}.${key}`] : ownAccessors(descriptor.value, seen, `${at}.${key}`),
  );
}

// The made contexts are read as the executor reads them, loosely typed (Apollo's own types say little).
type Made = Record<string, any>;
const server = { logger: { name: 'logger' }, cache: { name: 'cache' } };
const internals = { includeStacktraceInErrorResponses: false };

const header = fc.tuple(fc.constantFrom('accept', 'x-one', 'X-Two', 'authorization'), fc.string({ maxLength: 8 }));
const requestContext = fc
  .record(
    {
      query: fc.string({ maxLength: 20 }),
      operationName: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
      variables: fc.dictionary(fc.string({ maxLength: 4 }), fc.integer()),
      extensions: fc.dictionary(fc.string({ maxLength: 4 }), fc.boolean()),
      http: fc.record({ method: fc.constantFrom('GET', 'POST'), search: fc.constantFrom('', '?a=1', 'a=1', '?'), headers: fc.array(header, { maxLength: 4 }) }),
    },
    { requiredKeys: [] },
  )
  .chain((request) =>
    fc.record({ status: fc.option(fc.integer({ min: 200, max: 599 }), { nil: undefined }), headers: fc.array(header, { maxLength: 3 }) }).map(({ status, headers }) => {
      const toMap = (pairs: [string, string][]) => {
        const map = new HeaderMap();
        for (const [name, value] of pairs) map.set(name, value);
        return map;
      };
      return {
        request: { ...request, ...(request.http ? { http: { ...request.http, headers: toMap(request.http.headers) } } : {}) },
        response: { http: { status, headers: toMap(headers) } },
        schema: { name: 'schema' },
        contextValue: { name: 'context' },
        queryHash: 'hash',
        document: { kind: 'Document' },
        source: request.query,
        operationName: request.operationName ?? null,
        operation: { kind: 'OperationDefinition' },
        errors: undefined,
        metrics: { name: 'metrics' },
        overallCachePolicy: { name: 'policy' },
        requestIsBatched: false,
      };
    }),
  );

/** What a made context says, read through its interface: plain fields, headers and status. */
function reading(made: Made): unknown {
  const { request, response, ...rest } = made;
  const { http, ...requestRest } = request;
  return {
    rest,
    request: requestRest,
    http: http && { method: http.method, url: http.url, headers: [...http.headers], x: http.headers.get('x-one'), has: http.headers.has('accept') },
    response: { status: response.http.status, headers: [...response.http.headers.entries()], keys: [...response.http.headers.keys()] },
  };
}

describe("Apollo's gateway request context, replaced", () => {
  it('is still where it is replaced, a function of (requestContext, server, internals)', () => {
    const exported = require(GATEWAY_CONTEXT_MODULE)[GATEWAY_CONTEXT_EXPORT];
    expect(typeof exported).toBe('function');
    expect(apolloGatewayContext.length).toBe(3);
    jitGateway(makeExecutableSchema({ typeDefs: 'type Query { a: Int }' }));
    expect(require(GATEWAY_CONTEXT_MODULE)[GATEWAY_CONTEXT_EXPORT]).toBe(makeGatewayContext);
  });

  it("makes what Apollo's makes, status and headers read and written through (fast-check)", () => {
    fc.assert(
      fc.property(requestContext, requestContext, fc.integer({ min: 200, max: 599 }), (a, b, status) => {
        // Read: the same context through both.
        expect(reading(makeGatewayContext(a as never, server, internals) as Made)).toEqual(reading(apolloGatewayContext(a as never, server, internals) as Made));
        // Written: the same writes, through ours to a and through Apollo's to b, change both alike.
        for (const [made, of] of [
          [makeGatewayContext(a as never, server, internals) as Made, a],
          [apolloGatewayContext(b as never, server, internals) as Made, b],
        ] as const) {
          const before = of.response.http.headers.get('x-one');
          made.response.http.status = status;
          made.response.http.headers.append('x-one', 'added');
          expect(of.response.http.status).toBe(status);
          expect(made.response.http.status).toBe(status);
          expect(of.response.http.headers.get('x-one')).toBe(before === undefined ? 'added' : `${before}, added`);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("has no accessor of its own anywhere, where Apollo's has one per request (fast-check)", () => {
    fc.assert(
      fc.property(requestContext, (a) => {
        expect(ownAccessors(makeGatewayContext(a as never, server, internals))).toEqual([]);
        expect(ownAccessors(apolloGatewayContext(a as never, server, internals))).toEqual(['context.response.http.status']);
      }),
    );
  });
});
