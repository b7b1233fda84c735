import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  DocumentNode,
  GraphQLError,
  GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  OperationDefinitionNode,
  parse,
  ParseOptions,
  ValidationRule,
} from 'graphql';
import { Config } from '../config';
import { defaultPageSize } from '../pagination/page-size';
import { checkDocumentSize, checkFieldOverlap, checkNesting, documentRefused } from './document-limits';
import { CountStep, DocumentCache } from './document-cache';
import { checkCost, OperationEstimate, operationEstimates } from './query-cost';
import { canExceedResponseLimit } from './response-size';
import { TrustedDocuments } from './trusted-documents';
import { withoutRepeatedFragments } from './repeated-fragments';
import { documentValidator } from './validate-document';
import { BoundedMap } from '../common/bounded-map';
import { LimitExceeded, limitRefusal, Release, RequesterLimits, TurnLimit, viewerKey } from '../limits/requester-limits';

/** The part of the configuration the checks read. */
export type GuardConfig = Pick<
  Config,
  | 'maxQueryCost'
  | 'maxQueryDepth'
  | 'maxQueryTokens'
  | 'maxNewDocumentsPerMinute'
  | 'trustedDocuments'
  | 'maxPageSize'
  | 'introspection'
  | 'maxResponseBytes'
  | 'maxHeavyRequestsPerViewer'
  | 'statementTimeoutMs'
>;

/** What the plugin reads of a request's context: whose turn a heavy request takes. */
export interface GuardedContext extends BaseContext {
  viewer: { id: string; isAdmin: boolean };
}

/** How an operation arrived: subscriptions run only on the streaming transports. */
export type Transport = 'http' | 'stream';

/** Where a request's document comes from, as any transport receives it. */
export interface DocumentParams {
  query?: unknown;
  documentId?: unknown;
  extensions?: unknown;
}

export type PreparedDocument = { document: DocumentNode; errors?: undefined } | { document?: undefined; errors: readonly GraphQLError[] };

export interface OperationGuard {
  /** The trusted-documents mode and manifest. */
  readonly trusted: TrustedDocuments;
  /**
   * The text a request runs: the trusted document its `documentId` names, or its `query` text when
   * the mode lets text through. Throws a coded GraphQLError (BAD_USER_INPUT, HTTP 400) otherwise.
   * Undefined when the request names neither (the transport answers that itself).
   */
  documentText(params: DocumentParams): string | undefined;
  /**
   * The parsed and validated document for a text, from the cache (by sha256) when it was seen
   * before. A new document is charged to the viewer's per-minute budget first (a coded 429 beyond
   * it), parsed with the token limit, size-checked (fragments, expanded selections) before the
   * standard validation rules can recurse into it, then validated with the query limits.
   * Syntax and validation errors are returned, a refusal is thrown. The budget is shared by every
   * process on the database, hence async.
   */
  prepare(text: string, viewerId: string): Promise<PreparedDocument>;
  /**
   * Refuses, before it runs, an operation whose cost (on its coerced variables, fragments expanded)
   * exceeds the limit, and a subscription that did not come over a streaming transport.
   * Returns the cost (undefined when the variables do not coerce: then nothing runs).
   */
  checkOperation(args: {
    document: DocumentNode;
    operation: OperationDefinitionNode;
    variables?: Record<string, unknown> | null;
    transport: Transport;
  }): number | undefined;
  /** Apollo Server options and plugin that run the same checks inside its request pipeline. */
  readonly apollo: {
    parseOptions: ParseOptions;
    validationRules: ValidationRule[];
    documentStore: ApolloDocumentStore;
    plugin: ApolloServerPlugin<GuardedContext>;
    /**
     * Call from the context function, once the viewer is known: prepares the request's document
     * (see `prepare`), so a refusal is thrown where Apollo still answers it as a coded error (a
     * throw from its parsing or validation hooks would be a 500), and Apollo's document store then
     * holds the validated document. Syntax and validation errors are left to Apollo to answer.
     * An automatic persisted query sent as its hash alone is charged here when this process does
     * not hold its document (see `createOperationGuard`).
     */
    admit(request: HttpRequest, viewerId: string): Promise<void>;
  };
}

/** Apollo's `documentStore` contract (a KeyValueCache of documents). */
export interface ApolloDocumentStore {
  get(key: string): Promise<DocumentNode | undefined>;
  set(key: string, value: DocumentNode): Promise<void>;
  delete(key: string): Promise<boolean>;
}

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** Hashes of the documents sent lately: a polling client sends the same text with every request. */
const DOCUMENT_HASHES = new BoundedMap<string, string>(1000);
/** Longer texts are hashed each time (a Map would keep them alive, and they are rare). */
const MAX_REMEMBERED_TEXT = 8 * 1024;

function documentHash(text: string): string {
  if (text.length > MAX_REMEMBERED_TEXT) return sha256Hex(text);
  let hash = DOCUMENT_HASHES.get(text);
  if (hash === undefined) DOCUMENT_HASHES.set(text, (hash = sha256Hex(text)));
  return hash;
}

/**
 * Validation stops at this many errors (graphql-js's default is 100): each error of a hostile
 * document costs its suggestions and a stack, and a client fixes the first ones first.
 */
const MAX_VALIDATION_ERRORS = 10;

/**
 * Field comparisons (checkFieldOverlap) validation may make for the price of one new document,
 * about 10 ms of CPU; each further share is charged as one more new document (at most a minute's
 * budget), so the CPU a viewer's new documents cost per minute is bounded, not only their number.
 */
const COMPARISONS_PER_NEW_DOCUMENT = 10_000;

/** Hashes charged to a viewer ahead of their text (automatic persisted queries), remembered. */
const MAX_PREPAID = 1000;

/**
 * Builds the operation checks every transport runs (HTTP through Apollo's plugin; WebSocket and
 * SSE by calling `documentText`, `prepare` and `checkOperation` in that order), so a limit cannot
 * be bypassed by changing transport. Suggestions are removed from errors by `formatError`.
 *
 * The new-document budget (HUB_MAX_NEW_DOCUMENTS_PER_MINUTE) charges a viewer for the documents
 * this process must parse, validate and compile for them, and for nothing else:
 * - a document already in the cache is free, whoever sent it first, even to a viewer over budget;
 * - trusted documents (`documentId`, or their exact text) are checked at start and always free;
 * - an invalid document is charged on every attempt (it is not cached: there is nothing to reuse);
 * - a document whose validation must compare many fields costs one more per
 *   COMPARISONS_PER_NEW_DOCUMENT comparisons, charged before validation runs;
 * - an automatic persisted query sent as its hash alone, whose document this process does not
 *   hold, is one new document: charged before the hash is looked up (the shared table would
 *   otherwise let a viewer cycle more documents than the cache holds, uncharged, and probe hashes
 *   at a database round trip each). Its usual sequel, the client re-sending hash and text after
 *   PERSISTED_QUERY_NOT_FOUND (here or on another process), is not charged again, nor is the
 *   same hash sent again meanwhile: one document, one charge.
 * Beyond the budget the answer is HTTP 429, BAD_USER_INPUT, reason NEW_DOCUMENT_RATE, with
 * `retry-after` and `extensions.limit`; the viewer's window refills a minute after it began. The
 * budget is kept by `limits` (src/limits/): with its shared windows, across every process.
 *
 * Heavy requests over HTTP (HUB_MAX_HEAVY_REQUESTS_PER_VIEWER): a query whose estimate allows an
 * answer over HUB_MAX_RESPONSE_BYTES (`canExceedResponseLimit`) reads its rows in full before the
 * size check can refuse it. Four at once from one member kept the server busy parsing and
 * collecting pages of 32,000-character contents and put a bystander's p99 over 1 s. A member's
 * such requests run at most N at once per process, the rest wait their turn in the plugin, once
 * the estimate is known and before anything is read; light requests and other viewers' never
 * wait. A waiter whose line did not move for HUB_STATEMENT_TIMEOUT_MS gets 429, reason
 * HEAVY_REQUESTS, `retry-after`, `extensions.limit`: the same refusal as the budget's.
 * Administrators are not bounded: they run the operators' dashboards, whose pages are heavy by
 * the estimate from `first: 19` sessions on (three contents each: a page of 100 can hold 57.6 MB
 * of long texts) although their answers on real data are small, and the bench runs the canonical
 * dashboard at `first: 100` and `500` with ten connections of one administrator's token.
 */
export function createOperationGuard(
  schema: GraphQLSchema,
  config: GuardConfig,
  trusted: TrustedDocuments,
  count: CountStep = () => {},
  limits: RequesterLimits = new RequesterLimits(),
): OperationGuard {
  const armor = new ApolloArmor({
    // Armor's token limit turns syntax errors into 500s; graphql-js's `maxTokens` is used instead.
    maxTokens: { enabled: false },
    // Armor's cost ignores variables and page sizes; see query-cost.ts.
    costLimit: { enabled: false },
    // Suggestions are removed from every error (validation and variable coercion) by formatError.
    blockFieldSuggestion: { enabled: false },
    // Depth is the nesting of fields: a fragment spread or inline fragment is not a level (codegen
    // clients nest fragments), while what fragments expand to is bounded by the selection limit.
    maxDepth: { enabled: true, n: config.maxQueryDepth, ignoreIntrospection: true, flattenFragments: true },
    maxAliases: { enabled: true, n: 15 },
    maxDirectives: { enabled: true, n: 20 },
  }).protect();
  const validationRules = armor.validationRules as ValidationRule[];
  // Every rule a document must pass before it is cached: a cached document skips Apollo's
  // validation, so Apollo's own introspection rule is repeated here.
  const validateDocument = documentValidator(schema, { rules: config.introspection ? [] : [NoSchemaIntrospectionCustomRule], asSent: validationRules });
  const parseOptions: ParseOptions = { maxTokens: config.maxQueryTokens };
  const cache = new DocumentCache();
  const newDocuments = {
    variable: 'HUB_MAX_NEW_DOCUMENTS_PER_MINUTE',
    perMinute: config.maxNewDocumentsPerMinute,
    what: 'new documents',
    reason: 'NEW_DOCUMENT_RATE',
    advice: 'reuse documents (variables, not new text)',
  };
  const estimateOf = operationEstimates(schema, defaultPageSize(config.maxPageSize), () => count('cost'));
  const heavyRequests: TurnLimit = {
    variable: 'HUB_MAX_HEAVY_REQUESTS_PER_VIEWER',
    max: config.maxHeavyRequestsPerViewer,
    // The line stands still this long only when the viewer's running heavy requests are stuck:
    // longer than one statement may run.
    waitMs: config.statementTimeoutMs,
    what: 'heavy requests (answers that can pass HUB_MAX_RESPONSE_BYTES)',
    reason: 'HEAVY_REQUESTS',
  };
  /** Waits for the viewer's turn to run a heavy request; a coded 429 when the line stood still. */
  const heavyTurn = async (viewerId: string): Promise<Release> => {
    try {
      return await limits.turn(heavyRequests, viewerKey(viewerId));
    } catch (error) {
      throw error instanceof LimitExceeded ? limitRefusal(error, 'query') : error;
    }
  };

  const chargeNewDocument = async (viewerId: string, amount = 1) => {
    try {
      await limits.charge(newDocuments, viewerKey(viewerId), { amount });
    } catch (error) {
      throw error instanceof LimitExceeded ? limitRefusal(error, 'query') : error;
    }
  };

  // Trusted documents are parsed and validated once, at start, and never evicted or charged.
  for (const [hash, text] of trusted.documents) {
    let document: DocumentNode;
    let merged: DocumentNode;
    try {
      checkNesting(text, config.maxQueryTokens);
      document = parse(text, parseOptions);
      checkDocumentSize(document);
      merged = withoutRepeatedFragments(document);
      checkFieldOverlap(merged);
    } catch (error) {
      throw new Error(`Trusted document sha256:${hash} is refused: ${(error as Error).message}`);
    }
    const errors = validateDocument(document, { merged });
    if (errors.length) throw new Error(`Trusted document sha256:${hash} does not validate: ${errors.map((e) => e.message).join('; ')}`);
    cache.pin(hash, document);
  }

  const apolloKey = (key: string) => key.slice(key.lastIndexOf(':') + 1);
  // Hash → viewer: an automatic persisted query charged before its text arrived (see above).
  const prepaid = new BoundedMap<string, string>(MAX_PREPAID);
  const prepay = async (hash: string, viewerId: string) => {
    // Sent as a hash again before its document reached this process: still the same document.
    if (prepaid.get(hash) === viewerId) return;
    await chargeNewDocument(viewerId);
    prepaid.set(hash, viewerId);
  };
  const chargeText = async (hash: string, viewerId: string) => {
    if (prepaid.get(hash) === viewerId) prepaid.delete(hash);
    else await chargeNewDocument(viewerId);
  };

  async function prepare(text: string, viewerId: string): Promise<PreparedDocument> {
    const hash = documentHash(text);
    const cached = cache.get(hash);
    if (cached) {
      count('cached');
      return { document: cached };
    }
    await chargeText(hash, viewerId);
    // Before the parser recurses into it (thrown: no transport parses it again).
    checkNesting(text, config.maxQueryTokens);
    let document: DocumentNode;
    try {
      count('parse');
      document = parse(text, parseOptions);
    } catch (error) {
      const syntax = error instanceof GraphQLError ? error : new GraphQLError(String(error));
      return { errors: [new GraphQLError(syntax.message, { source: syntax.source, positions: syntax.positions, extensions: { code: 'GRAPHQL_PARSE_FAILED' } })] };
    }
    checkDocumentSize(document);
    // Validation's cost grows with the fields it must compare (repeated fragments once): a
    // document that needs many comparisons is charged as several new documents, before it is validated.
    const merged = withoutRepeatedFragments(document);
    const comparisons = checkFieldOverlap(merged);
    if (comparisons >= COMPARISONS_PER_NEW_DOCUMENT) await chargeNewDocument(viewerId, Math.floor(comparisons / COMPARISONS_PER_NEW_DOCUMENT));
    count('validate');
    const errors = validateDocument(document, { maxErrors: MAX_VALIDATION_ERRORS, merged });
    if (errors.length) return { errors: errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })) };
    cache.set(hash, document, Buffer.byteLength(text));
    return { document };
  }

  function checkEstimate({ document, operation, variables, transport }: Parameters<OperationGuard['checkOperation']>[0]): OperationEstimate | undefined {
    if (operation.operation === 'subscription' && transport !== 'stream') {
      throw documentRefused(
        'SUBSCRIPTION_OVER_HTTP',
        'Subscriptions are served over WebSocket (graphql-transport-ws at /graphql) and SSE (/graphql/stream), not plain HTTP requests',
      );
    }
    const estimate = estimateOf(document, operation, variables ?? undefined);
    checkCost(estimate?.cost, config.maxQueryCost);
    return estimate;
  }

  const checkOperation: OperationGuard['checkOperation'] = (args) => checkEstimate(args)?.cost;

  // The end of each HTTP request's heavy turn, for the one path that skips willSendResponse: an
  // unexpected error thrown out of Apollo's pipeline.
  const turnEnds = new WeakMap<object, () => void>();

  return {
    trusted,
    documentText: (params) => trusted.textOf(params),
    prepare,
    checkOperation,
    apollo: {
      parseOptions,
      validationRules,
      documentStore: {
        async get(key) {
          return cache.get(apolloKey(key));
        },
        async set(key, document) {
          // Apollo parsed it: a hash alone whose document came from the shared table (paid in admit).
          prepaid.delete(apolloKey(key));
          cache.set(apolloKey(key), document, document.loc?.source.body.length ?? 0);
        },
        async delete() {
          return false;
        },
      },
      async admit(request, viewerId) {
        const text = queryTextOf(request);
        // Syntax and validation errors are Apollo's to answer (in its usual shape); refusals throw here.
        if (text !== undefined) {
          await prepare(text, viewerId);
          return;
        }
        const hash = persistedHashOf(request);
        if (hash === undefined) return;
        if (cache.get(hash)) count('cached');
        else await prepay(hash, viewerId);
      },
      plugin: {
        async requestDidStart(requestContext) {
          // A heavy request's turn ends when its answer is decided: after execution and the size
          // check (willSendResponse, on every path Apollo answers: data, errors, a refusal), or when
          // the pipeline fails. A turn granted after that (another hook refused the request while
          // this one waited) ends at once. A client that left does not end it: its request still
          // runs to the end, and the turn counts that work.
          let endTurn: Release | undefined;
          let ended = false;
          const end = () => {
            ended = true;
            endTurn?.();
          };
          turnEnds.set(requestContext, end);
          return {
            // Apollo parses and validates only what its document store (our cache) lacks.
            async parsingDidStart() {
              count('parse');
            },
            async validationDidStart() {
              count('validate');
            },
            async didResolveOperation({ document, operation, request, response, contextValue }) {
              if (!operation) return;
              const estimate = checkEstimate({ document, operation, variables: request.variables, transport: 'http' });
              if (estimate === undefined) return;
              // Lets clients see how far below the limit they are (and tests check the estimate).
              response.http.headers.set('x-query-cost', String(estimate.cost));
              // Heavy: its answer can pass HUB_MAX_RESPONSE_BYTES, so only reading its rows in full
              // tells. A member's heavy requests wait their turn here, before anything is read, so
              // one member cannot run many at once; light requests and other viewers never wait.
              if (contextValue.viewer.isAdmin || !canExceedResponseLimit(estimate.textChars, config.maxResponseBytes)) return;
              const release = await heavyTurn(contextValue.viewer.id);
              if (ended) release();
              else endTurn = release;
            },
            async willSendResponse() {
              end();
            },
          };
        },
        async unexpectedErrorProcessingRequest({ requestContext }) {
          turnEnds.get(requestContext)?.();
        },
      },
    },
  };
}

type HttpRequest = { method?: string; url?: string; body?: unknown };

/** A request's parameters as Apollo will read them: the POST body, or the GET query string. */
function paramsOf({ method, url, body }: HttpRequest): { query?: unknown; extensions?: unknown } {
  if (method === 'GET') {
    const params = new URLSearchParams(url?.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
    let extensions: unknown;
    try {
      extensions = JSON.parse(params.get('extensions') ?? 'null');
    } catch {
      extensions = undefined; // Apollo answers a malformed `extensions` itself
    }
    return { query: params.get('query') ?? undefined, extensions };
  }
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as { query?: unknown; extensions?: unknown }) : {};
}

/** The query text of an HTTP request. */
function queryTextOf(request: HttpRequest): string | undefined {
  const { query } = paramsOf(request);
  return typeof query === 'string' ? query : undefined;
}

/** The hash of an automatic persisted query (`extensions.persistedQuery.sha256Hash`). */
function persistedHashOf(request: HttpRequest): string | undefined {
  const { extensions } = paramsOf(request);
  const persisted = extensions && typeof extensions === 'object' ? (extensions as { persistedQuery?: unknown }).persistedQuery : undefined;
  const hash = persisted && typeof persisted === 'object' ? (persisted as { sha256Hash?: unknown }).sha256Hash : undefined;
  return typeof hash === 'string' ? hash : undefined;
}
