import { createSourceEventStream, DocumentNode, GraphQLError, GraphQLSchema } from 'graphql';
import { sqlScope, SqlStats } from '../db/sql-counter';
import { Channel } from './channel';
import { LiveHub, LiveViewer, TooManySubscriptions } from './hub';
import { checkOperation, OperationLimits, OperationRequest } from './operation';

/** An authenticated live caller. */
export interface LiveAuth {
  viewer: LiveViewer;
  /** When the bearer token expires (ms since the epoch). */
  expiresAt?: number;
}

/** What a `Subscription` field's `subscribe` resolver finds in its context as `live`. */
export interface LiveRegistrar {
  /** Registers this operation's subscriber with a feed and returns its result stream. `replay`:
   * first replay from the state's starting position (see LiveFeed.replay). */
  subscribe<S>(feed: string, state: S, options?: { replay?: boolean }): Promise<Channel>;
}

/** One subscription start, as observability records it (errors included). */
export interface OperationRecord {
  transport: string;
  /** The client's operation name, as sent (the receiver turns it into a label). */
  operationName?: string;
  /** Whether the subscription started (refusals are not). */
  started: boolean;
  durationMs: number;
  sql: number;
  codes: string[];
}

export interface StarterDeps<A extends LiveAuth> {
  schema: GraphQLSchema;
  hub: LiveHub;
  operationLimits: OperationLimits;
  /** The resolver context of one subscription (the same as a request's), with `live`. */
  createContext(auth: A, live: LiveRegistrar): Promise<unknown> | unknown;
  onOperation(record: OperationRecord): void;
}

export type Started = { stream: Channel; document: DocumentNode; operationName?: string } | { errors: GraphQLError[] };

export function asGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  const cause = error instanceof Error ? error : new Error(String(error));
  return new GraphQLError(cause.message, { originalError: cause });
}

/** graphql-js reports some bad input before any resolver runs (variables that do not coerce):
 * no path and no code. Apollo codes these BAD_USER_INPUT over HTTP; so do the live transports. */
function asRequestError(error: GraphQLError): GraphQLError {
  if (error.path !== undefined || error.extensions?.code !== undefined) return error;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, originalError: error.originalError, extensions: { code: 'BAD_USER_INPUT' } });
}

/** A live limit refused: BAD_USER_INPUT naming the variable that sets it. */
export function limitError(field: string, message: string, limit: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', validation: [{ field, message }], limit } });
}

/**
 * The start of one subscription, the same for every transport: the operation checks of POST
 * /graphql (checkOperation: trusted documents, limits, cost, the new-document budget), an
 * expired token refused, the Subscription field's own `subscribe` resolver in a request's
 * context, and its registration with the hub on a channel the transport made. Either the stream
 * of already executed and formatted results, or the coded errors to answer with.
 */
export function operationStarter<A extends LiveAuth>(deps: StarterDeps<A>) {
  return async function start(transport: string, auth: A, request: OperationRequest, channelFor: () => Channel): Promise<Started> {
    const started = process.hrtime.bigint();
    const stats: SqlStats = { statements: 0 };
    let result: Started;
    try {
      if (auth.expiresAt !== undefined && auth.expiresAt <= Date.now()) {
        throw new GraphQLError('The bearer token expired', { extensions: { code: 'UNAUTHENTICATED' } });
      }
      const checked = await checkOperation(deps.schema, deps.operationLimits, request, auth.viewer.id);
      let channel: Channel | undefined;
      const live: LiveRegistrar = {
        subscribe: async (feed, state, options) => {
          const opened = (channel = channelFor());
          try {
            await deps.hub.register({
              feed,
              viewer: auth.viewer,
              state,
              channel: opened,
              replay: Boolean(options?.replay),
              expiresAt: auth.expiresAt,
              operation: {
                document: checked.document,
                operationName: checked.operationName,
                variableValues: checked.variables,
                documentKey: checked.documentKey,
              },
            });
          } catch (error) {
            opened.end();
            if (error instanceof TooManySubscriptions) {
              throw limitError('subscription', error.message, 'HUB_LIVE_MAX_SUBSCRIPTIONS_PER_VIEWER');
            }
            throw error;
          }
          return opened;
        },
      };
      const source = await sqlScope.run(stats, async () =>
        createSourceEventStream({
          schema: deps.schema,
          document: checked.document,
          operationName: checked.operationName,
          variableValues: checked.variables,
          contextValue: await deps.createContext(auth, live),
        }),
      );
      if (!(Symbol.asyncIterator in source)) result = { errors: [...(source.errors ?? [])].map(asRequestError) };
      // The resolver's value is the channel it registered (see LiveRegistrar).
      else if (source instanceof Channel) result = { stream: source, document: checked.document, operationName: checked.operationName };
      else {
        channel?.end();
        throw new Error('a Subscription resolver returned a stream it did not get from ctx.live');
      }
    } catch (error) {
      result = { errors: [asGraphQLError(error)] };
    }
    deps.onOperation({
      transport,
      operationName: typeof request.operationName === 'string' ? request.operationName : undefined,
      started: 'stream' in result,
      durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
      sql: stats.statements,
      codes: 'errors' in result ? result.errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')) : [],
    });
    return result;
  };
}

export type StartOperation<A extends LiveAuth> = ReturnType<typeof operationStarter<A>>;
