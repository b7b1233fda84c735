import { DocumentNode, execute, ExecutionResult, GraphQLSchema } from 'graphql';
import { sqlScope, SqlStats } from '../db/sql-counter';
import { Channel } from './channel';
import { LiveListener } from './listener';
import { LiveMetrics } from './metrics';
import { coalesce, LiveEvent } from './notifications';

/** Who subscribed; authorization decisions read only this (structurally the server's Viewer). */
export interface LiveViewer {
  id: string;
  isAdmin: boolean;
}

/** One subscription's document, executed once per event for everyone sharing it. */
export interface LiveOperation {
  document: DocumentNode;
  operationName?: string | null;
  variableValues?: Record<string, unknown>;
  /** Same text, operation name and variables: same key (the sharing unit). */
  documentKey: string;
}

/** A value for the subscription's root field (a SessionChange, a MessageEdge). `key` names it
 * for sharing: subscribers of one viewer group with the same document and key share one
 * execution. `dedupe` (a message id) is delivered at most once per subscriber; `position` is
 * remembered as the subscriber's last delivered position, to replay from after a gap. */
export interface Delivery {
  key: string;
  payload: unknown;
  dedupe?: string;
  position?: unknown;
}

/** What a feed resolves with: the viewer and a per-batch context (loaders) for that viewer. */
export interface LiveScope {
  viewer: LiveViewer;
  context: unknown;
}

export interface LiveSubscriber<S = unknown> {
  id: number;
  feed: string;
  viewer: LiveViewer;
  state: S;
  operation: LiveOperation;
  channel: Channel;
  /** The last delivered position (see Delivery.position). */
  position?: unknown;
  /** Recently delivered dedupe ids, with the time they were delivered. */
  seen: Map<string, number>;
  /** While a replay runs, live results wait here (then those already replayed are dropped). */
  held?: { result: ExecutionResult; bytes: number; delivery: Delivery }[];
}

/**
 * A kind of subscription (a `Subscription` field), implemented by its feature. The live layer
 * knows nothing of sessions or messages: it hands each feed a viewer group's subscribers and the
 * batch's events, and executes what the feed selects.
 */
export interface LiveFeed<S = any> {
  /** The `Subscription` field. */
  name: string;
  /** For one viewer's (or all admins') subscribers of this feed: each one's deliveries, in order. */
  select(events: LiveEvent[], subscribers: LiveSubscriber<S>[], scope: LiveScope): Promise<Delivery[][]>;
  /** Deliveries missed, oldest first, in pages: from the subscriber's `after` when it starts, or
   * from its last delivered position after the listener lost notifications. `resync` when the
   * feed cannot replay: the subscriber then ends with a resync error. */
  replay?(subscriber: LiveSubscriber<S>, scope: LiveScope, from: 'start' | 'gap'): AsyncIterable<Delivery[]> | 'resync';
  /** Whether an event ends a subscriber normally (its session was purged). */
  ends?(event: LiveEvent, subscriber: LiveSubscriber<S>): boolean;
  /** Whether an event asks a subscriber to replay from its position (a bulk insert). */
  replaysOn?(event: LiveEvent, subscriber: LiveSubscriber<S>): boolean;
}

export interface LiveHubOptions {
  schema: GraphQLSchema;
  feeds: LiveFeed[];
  connectionString: string;
  /** A fresh context (loaders) for a viewer; built once per viewer group per batch. */
  contextFor(viewer: LiveViewer): unknown;
  /** Masks and codes errors exactly like HTTP responses. */
  formatResult(result: ExecutionResult): ExecutionResult;
  batchMs: number;
  maxSubscriptionsPerViewer: number;
  reconnectMaxMs: number;
  metrics: LiveMetrics;
  onProblem(message: string, error?: unknown): void;
  /** Tests and the bench: the SQL statements of each event batch. */
  onBatch?(stats: BatchStats): void;
}

/** One processed event batch: its events, the SQL statements resolving it took, the subscribers then. */
export interface BatchStats {
  events: number;
  statements: number;
  subscribers: number;
}

/** The error a subscriber ends with when the live feed cannot replay what it missed. */
export const RESYNC_ERROR = {
  message: 'Live updates were interrupted: refetch what you show, then subscribe again',
  extensions: { code: 'INTERNAL_SERVER_ERROR', reason: 'LIVE_RESYNC' },
};

export function endedError(message: string) {
  return { errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] } as unknown as ExecutionResult;
}

/** How long dedupe ids are kept: longer than any write transaction may run (statement timeout). */
const SEEN_WINDOW_MS = 60_000;

/**
 * Fan-out of committed changes to this process's subscribers. Events from the LISTEN connection
 * are collected for `batchMs`, coalesced, and then, per viewer group (each member alone, all
 * admins together), each feed selects what its subscribers get; every distinct (document,
 * delivery) is executed once with the group's loaders, concurrently, so the SQL of a batch grows
 * with viewers and documents, not with subscribers.
 */
export class LiveHub {
  private readonly feeds = new Map<string, LiveFeed>();
  private readonly subscribers = new Map<number, LiveSubscriber>();
  private readonly perViewer = new Map<string, number>();
  private readonly listener: LiveListener;
  private nextId = 1;
  private pending: LiveEvent[] = [];
  private timer?: NodeJS.Timeout;
  private draining = Promise.resolve();
  private stopped = false;
  private readonly batchListeners = new Set<(stats: BatchStats) => void>();

  constructor(private readonly options: LiveHubOptions) {
    for (const feed of options.feeds) this.feeds.set(feed.name, feed);
    this.listener = new LiveListener({
      connectionString: options.connectionString,
      maxBackoffMs: options.reconnectMaxMs,
      onEvents: (events) => this.enqueue(events),
      onGap: () => this.recoverAll(),
      onStateChange: (state, error) => {
        options.metrics.listenerUp.set(state === 'connected' ? 1 : 0);
        if (state === 'lost') options.onProblem('live LISTEN connection lost; reconnecting', error);
      },
    });
  }

  /** The LISTEN backend's pid (tests terminate it to prove recovery). */
  get listenerPid(): number | undefined {
    return this.listener.backendPid;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Observes every processed batch (tests, the bench); returns the unsubscribe function. */
  observeBatches(listener: (stats: BatchStats) => void): () => void {
    this.batchListeners.add(listener);
    return () => this.batchListeners.delete(listener);
  }

  /**
   * Adds a subscriber once LISTEN is active (so nothing committed after this resolves is missed)
   * and, with `replay`, first replays what it missed. Throws `tooMany` past the per-viewer limit.
   */
  async register<S>(input: {
    feed: string;
    viewer: LiveViewer;
    state: S;
    operation: LiveOperation;
    channel: Channel;
    replay: boolean;
    expiresAt?: number;
  }): Promise<LiveSubscriber<S>> {
    const feed = this.feeds.get(input.feed);
    if (!feed) throw new Error(`no live feed ${input.feed}`);
    await this.listener.start();
    // Counted after the wait, so concurrent registrations cannot both pass the limit.
    const count = this.perViewer.get(input.viewer.id) ?? 0;
    if (count >= this.options.maxSubscriptionsPerViewer) throw new TooManySubscriptions(this.options.maxSubscriptionsPerViewer);
    const subscriber: LiveSubscriber<S> = {
      id: this.nextId++,
      feed: input.feed,
      viewer: input.viewer,
      state: input.state,
      operation: input.operation,
      channel: input.channel,
      seen: new Map(),
    };
    if (input.channel.isClosed) return subscriber;
    this.subscribers.set(subscriber.id, subscriber);
    this.perViewer.set(input.viewer.id, count + 1);
    this.options.metrics.subscriptions.inc({ feed: input.feed });
    let expiry: NodeJS.Timeout | undefined;
    if (input.expiresAt !== undefined) {
      expiry = setTimeout(() => input.channel.end(endedError('The bearer token expired')), Math.max(0, input.expiresAt - Date.now()));
      expiry.unref();
    }
    input.channel.onClose(() => {
      clearTimeout(expiry);
      if (!this.subscribers.delete(subscriber.id)) return;
      const left = (this.perViewer.get(input.viewer.id) ?? 1) - 1;
      if (left > 0) this.perViewer.set(input.viewer.id, left);
      else this.perViewer.delete(input.viewer.id);
      this.options.metrics.subscriptions.dec({ feed: input.feed });
    });
    if (input.replay) void this.replay(subscriber, 'start');
    return subscriber;
  }

  private enqueue(events: LiveEvent[]): void {
    this.options.metrics.events.inc(events.length);
    if (this.subscribers.size === 0 || this.stopped) return;
    this.pending.push(...events);
    if (!this.timer) this.timer = setTimeout(() => this.flush(), this.options.batchMs);
  }

  private flush(): void {
    this.timer = undefined;
    const events = coalesce(this.pending.splice(0));
    // Batches run one after another, so every subscriber sees events in commit order.
    this.draining = this.draining.then(() => this.process(events)).catch((error) => this.options.onProblem('live batch failed', error));
  }

  private async process(events: LiveEvent[]): Promise<void> {
    const deleted = new Set(events.flatMap((e) => (e.type === 'userDeleted' ? [e.userId] : [])));
    const groups = new Map<string, LiveSubscriber[]>();
    for (const subscriber of this.subscribers.values()) {
      if (deleted.has(subscriber.viewer.id)) {
        subscriber.channel.end(endedError('The bearer token belongs to no user: the viewer was deleted'));
        continue;
      }
      const key = subscriber.viewer.isAdmin ? 'admin' : subscriber.viewer.id;
      const group = groups.get(key);
      if (group) group.push(subscriber);
      else groups.set(key, [subscriber]);
    }
    // A replay an event asks for starts before this batch's live results are delivered: it holds
    // them back (see replay), so a message posted after a bulk insert cannot overtake the insert.
    for (const subscriber of this.subscribers.values()) {
      const feed = this.feeds.get(subscriber.feed)!;
      if (feed.replaysOn && events.some((event) => feed.replaysOn!(event, subscriber))) void this.replay(subscriber, 'gap');
    }
    const stats: SqlStats = { statements: 0 };
    const started = process.hrtime.bigint();
    await sqlScope.run(stats, () => Promise.all([...groups.values()].map((group) => this.deliverToGroup(events, group))));
    this.options.metrics.batchStatements.observe(stats.statements);
    this.options.metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    const batch = { events: events.length, statements: stats.statements, subscribers: this.subscribers.size };
    this.options.onBatch?.(batch);
    for (const listener of this.batchListeners) listener(batch);
    for (const subscriber of this.subscribers.values()) {
      const feed = this.feeds.get(subscriber.feed)!;
      if (feed.ends && events.some((event) => feed.ends!(event, subscriber))) subscriber.channel.end();
    }
  }

  private async deliverToGroup(events: LiveEvent[], group: LiveSubscriber[]): Promise<void> {
    const scope: LiveScope = { viewer: group[0].viewer, context: this.options.contextFor(group[0].viewer) };
    const byFeed = new Map<string, LiveSubscriber[]>();
    for (const subscriber of group) {
      const list = byFeed.get(subscriber.feed);
      if (list) list.push(subscriber);
      else byFeed.set(subscriber.feed, [subscriber]);
    }
    const executions = new Map<string, Promise<{ result: ExecutionResult; bytes: number }>>();
    const plans = await Promise.all(
      [...byFeed].map(async ([name, subscribers]) => {
        const deliveries = await this.feeds.get(name)!.select(events, subscribers, scope);
        return subscribers.map((subscriber, i) => ({ subscriber, deliveries: deliveries[i] ?? [] }));
      }),
    );
    // Start every execution before awaiting any, so the group's loaders batch across all of them.
    const ready = plans.flat().map(({ subscriber, deliveries }) => ({
      subscriber,
      items: deliveries.map((delivery) => {
        const key = `${subscriber.operation.documentKey}\u0000${delivery.key}`;
        let execution = executions.get(key);
        if (!execution) executions.set(key, (execution = this.execute(subscriber, delivery, scope.context)));
        return { delivery, execution };
      }),
    }));
    for (const { subscriber, items } of ready) {
      for (const { delivery, execution } of items) this.push(subscriber, delivery, await execution);
    }
  }

  private async execute(subscriber: LiveSubscriber, delivery: Delivery, context: unknown) {
    const raw = (await execute({
      schema: this.options.schema,
      document: subscriber.operation.document,
      operationName: subscriber.operation.operationName,
      variableValues: subscriber.operation.variableValues,
      rootValue: { [subscriber.feed]: delivery.payload },
      contextValue: context,
    })) as ExecutionResult;
    const result = this.options.formatResult(raw);
    return { result, bytes: Buffer.byteLength(JSON.stringify(result)) };
  }

  private push(subscriber: LiveSubscriber, delivery: Delivery, output: { result: ExecutionResult; bytes: number }): void {
    if (subscriber.channel.isClosed) return;
    if (subscriber.held) {
      subscriber.held.push({ ...output, delivery });
      return;
    }
    if (delivery.dedupe !== undefined) {
      if (subscriber.seen.has(delivery.dedupe)) return;
      const now = Date.now();
      subscriber.seen.set(delivery.dedupe, now);
      for (const [id, at] of subscriber.seen) {
        if (now - at <= SEEN_WINDOW_MS) break;
        subscriber.seen.delete(id);
      }
    }
    if (delivery.position !== undefined) subscriber.position = delivery.position;
    if (subscriber.channel.push(output.result, output.bytes)) this.options.metrics.delivered.inc();
  }

  /** Replays into one subscriber while its live results are held back, then releases those it
   * has not had yet. */
  private async replay(subscriber: LiveSubscriber, from: 'start' | 'gap'): Promise<void> {
    const feed = this.feeds.get(subscriber.feed)!;
    if (!feed.replay) return;
    const held = (subscriber.held ??= []);
    try {
      const scope = { viewer: subscriber.viewer, context: this.options.contextFor(subscriber.viewer) };
      const pages = feed.replay(subscriber, scope, from);
      if (pages === 'resync') {
        subscriber.channel.end({ errors: [RESYNC_ERROR] } as unknown as ExecutionResult);
        return;
      }
      for await (const page of pages) {
        if (subscriber.channel.isClosed) return;
        const outputs = await Promise.all(page.map((delivery) => this.execute(subscriber, delivery, scope.context)));
        for (let i = 0; i < page.length; i += 1) {
          // A replay goes at the client's pace: the buffer limit is for clients that fall behind live.
          await subscriber.channel.waitForRoom();
          subscriber.held = undefined;
          this.push(subscriber, page[i], outputs[i]);
          subscriber.held = held;
        }
      }
    } catch (error) {
      this.options.onProblem('live replay failed', error);
      subscriber.channel.end({ errors: [RESYNC_ERROR] } as unknown as ExecutionResult);
    } finally {
      subscriber.held = undefined;
      for (const item of held) this.push(subscriber, item.delivery, item);
    }
  }

  private recoverAll(): void {
    this.options.metrics.gaps.inc();
    // After the batches already collected, so recovery sees everything they delivered.
    this.draining = this.draining.then(() => {
      for (const subscriber of this.subscribers.values()) {
        const feed = this.feeds.get(subscriber.feed)!;
        if (feed.replay) void this.replay(subscriber, 'gap');
        else subscriber.channel.end({ errors: [RESYNC_ERROR] } as unknown as ExecutionResult);
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const subscriber of this.subscribers.values()) subscriber.channel.end();
    await this.listener.stop();
    await this.draining;
  }
}

export class TooManySubscriptions extends Error {
  constructor(readonly limit: number) {
    super(`A viewer may hold at most ${limit} subscriptions on one server process`);
  }
}
