import { DocumentNode, execute, ExecutionResult, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { sqlScope, SqlStats } from '../db/sql-counter';
import { Channel, LiveFrame, LiveResult } from './channel';
import { LiveListener } from './listener';
import { LiveMetrics } from './metrics';
import { LimitExceeded, TurnEnd } from '../limits/requester-limits';
import { ReplayGate, ReplaysQueueFull } from './replay-gate';
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
  /** Called when the subscriber is sent it: not when it is a duplicate, is dropped behind a replay
   * or its subscriber is gone. A feed records what its client has here, never in `select`. */
  sent?: () => void;
}

/** What a feed resolves with: the viewer and a per-batch context (loaders) for that viewer,
 * built when first read (a group without events costs none). */
export interface LiveScope {
  viewer: LiveViewer;
  readonly context: unknown;
}

/**
 * A group's scope, its context made on first use. A class, not a literal with a getter: V8 keeps
 * such a literal's own accessor pair in old space, with the getter's closure, so each batch's
 * context (its loaders and rows) outlived it through young-generation collections
 * (src/http/apollo-internals.ts tells the same of Apollo's request contexts).
 */
class GroupScope implements LiveScope {
  private made?: unknown;
  constructor(
    readonly viewer: LiveViewer,
    private readonly make: () => unknown,
  ) {}

  get context(): unknown {
    return (this.made ??= this.make());
  }
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
  held?: Held;
}

/** One executed result, serialized once for all who share it (see LiveFrame). */
export type Executed = LiveFrame;

/** Live results that arrived during a replay, and their bytes. */
interface Held {
  items: { output: Executed; delivery: Delivery }[];
  bytes: number;
  /** Another replay was asked for meanwhile: run again from the position reached. */
  again: boolean;
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
  /** Whether an event ends a subscriber: `true` normally, or with this last result (an error). */
  ends?(event: LiveEvent, subscriber: LiveSubscriber<S>): boolean | ExecutionResult;
  /** Whether an event asks a subscriber to replay from its position (a bulk insert). */
  replaysOn?(event: LiveEvent, subscriber: LiveSubscriber<S>): boolean;
}

export interface LiveHubOptions {
  schema: GraphQLSchema;
  feeds: LiveFeed[];
  connectionString: string;
  /**
   * A fresh context (loaders) for a viewer; built once per viewer group per batch. `batch` is
   * what `batchReads` made for the batch (the same for every group of it, so their reads can go
   * out together); undefined for a replay, which reads alone.
   */
  contextFor(viewer: LiveViewer, batch?: unknown): unknown;
  /** Made once per batch and handed to every group's `contextFor`. */
  batchReads?(): unknown;
  /** Masks and codes errors exactly like HTTP responses. */
  formatResult(result: ExecutionResult): LiveResult;
  batchMs: number;
  maxSubscriptionsPerViewer: number;
  reconnectMaxMs: number;
  metrics: LiveMetrics;
  onProblem(message: string, error?: unknown): void;
  /** Tests and the bench: the SQL statements of each event batch. */
  onBatch?(stats: BatchStats): void;
  /**
   * Flow control of replays (HUB_LIVE_MAX_BUFFER_BYTES, HUB_LIVE_STALL_TIMEOUT_MS, the replay gate);
   * `replayTurn`: waits for a viewer's turn to replay (HUB_LIVE_MAX_REPLAYS_PER_VIEWER, a
   * RequesterLimits turn), or throws LimitExceeded when the line stood still.
   */
  flow: { maxBufferBytes: number; stallTimeoutMs: number; gate: ReplayGate; replayTurn?: (viewerId: string) => Promise<TurnEnd> };
}

/** One processed event batch: its events, the SQL statements resolving it took, the subscribers then. */
export interface BatchStats {
  events: number;
  statements: number;
  subscribers: number;
  /** Documents executed (one per document, variables, viewer scope and delivery). */
  executions: number;
  /** Results handed to subscribers. */
  deliveries: number;
}

/** The error a subscriber ends with when the live feed cannot replay what it missed. */
export const RESYNC_ERROR: GraphQLFormattedError = {
  message: 'Live updates were interrupted: refetch what you show, then subscribe again',
  extensions: { code: 'INTERNAL_SERVER_ERROR', reason: 'LIVE_RESYNC' },
};

/** What a replay lets its client owe: each result waits until it fits within this (or within
 * HUB_LIVE_MAX_BUFFER_BYTES, when smaller) beside what the client has not read yet. */
const REPLAY_WINDOW_BYTES = 256 * 1024;

function replaysBusyError(error: { message: string; retryAfterSeconds?: number }): LiveResult {
  return toResult({ message: error.message, extensions: { code: 'INTERNAL_SERVER_ERROR', reason: 'LIVE_REPLAYS_BUSY', retryAfter: error.retryAfterSeconds ?? 5 } });
}

/** Pre-formatted results (plain errors with codes) travel the same channel as executed ones. */
function toResult(error: GraphQLFormattedError): LiveResult {
  return { errors: [error] };
}

export function endedError(message: string) {
  return toResult({ message, extensions: { code: 'UNAUTHENTICATED' } });
}

/** One execution of a batch, and its result once done. */
interface Execution {
  done: Promise<void>;
  output?: Executed;
}

/** What a batch did, for BatchStats. */
interface Counts {
  executions: number;
  deliveries: number;
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

  /** Whether committed changes reach this process: LISTEN is active and a probe sent with
   * `send` (through the pool, like a write) arrives within `timeoutMs` (see LiveListener.verify). */
  listenerReady(send: (channel: string, payload: string) => Promise<unknown>, options: { timeoutMs: number; maxAgeMs: number }): Promise<void> {
    return this.listener.verify(send, options);
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
    const counts: Counts = { executions: 0, deliveries: 0 };
    const started = process.hrtime.bigint();
    const reads = this.options.batchReads?.();
    await sqlScope.run(stats, () => Promise.all([...groups.values()].map((group) => this.deliverToGroup(events, group, counts, reads))));
    this.options.metrics.batchStatements.observe(stats.statements);
    this.options.metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.options.metrics.delivered.inc(counts.deliveries);
    const batch: BatchStats = { events: events.length, statements: stats.statements, subscribers: this.subscribers.size, ...counts };
    this.options.onBatch?.(batch);
    for (const listener of this.batchListeners) listener(batch);
    for (const subscriber of this.subscribers.values()) {
      const feed = this.feeds.get(subscriber.feed)!;
      if (!feed.ends) continue;
      for (const event of events) {
        const end = feed.ends(event, subscriber);
        if (!end) continue;
        subscriber.channel.end(end === true ? undefined : this.options.formatResult(end));
        break;
      }
    }
  }

  /**
   * One viewer group's share of a batch. Each distinct (document and variables, delivery) is
   * executed and serialized once for the group, whatever the number of its subscribers; every
   * execution starts before any is awaited, so the group's loaders batch across all of them;
   * then the results are handed out without a pause, so a connection's frames of this batch go
   * out together (the transports write what one tick hands them in one write).
   */
  private async deliverToGroup(events: LiveEvent[], group: LiveSubscriber[], counts: Counts, reads: unknown): Promise<void> {
    const { viewer } = group[0];
    const { contextFor } = this.options;
    const scope = new GroupScope(viewer, () => contextFor(viewer, reads));
    const byFeed = new Map<string, LiveSubscriber[]>();
    for (const subscriber of group) {
      const list = byFeed.get(subscriber.feed);
      if (list) list.push(subscriber);
      else byFeed.set(subscriber.feed, [subscriber]);
    }
    const plans = await Promise.all(
      [...byFeed].map(async ([name, subscribers]) => {
        const deliveries = await this.feeds.get(name)!.select(events, subscribers, scope);
        return subscribers.map((subscriber, i) => ({ subscriber, deliveries: deliveries[i] ?? [] }));
      }),
    );
    // Per document (text, operation, variables), per delivery: one execution.
    const executions = new Map<string, Map<string, Execution>>();
    const pending: Promise<void>[] = [];
    const ready = plans.flat().map(({ subscriber, deliveries }) => {
      const { documentKey } = subscriber.operation;
      const byDelivery = executions.get(documentKey) ?? new Map<string, Execution>();
      executions.set(documentKey, byDelivery);
      const items = deliveries.map((delivery) => {
        let execution = byDelivery.get(delivery.key);
        if (!execution) {
          const started: Execution = { done: Promise.resolve() };
          started.done = this.execute(subscriber, delivery, scope.context).then((output) => void (started.output = output));
          byDelivery.set(delivery.key, (execution = started));
          pending.push(started.done);
        }
        return { delivery, execution };
      });
      return { subscriber, items };
    });
    if (pending.length === 0) return;
    counts.executions += pending.length;
    await Promise.all(pending);
    for (const { subscriber, items } of ready) {
      for (const { delivery, execution } of items) if (this.push(subscriber, delivery, execution.output!)) counts.deliveries += 1;
    }
  }

  private async execute(subscriber: LiveSubscriber, delivery: Delivery, context: unknown): Promise<Executed> {
    const raw = await execute({
      schema: this.options.schema,
      document: subscriber.operation.document,
      operationName: subscriber.operation.operationName,
      variableValues: subscriber.operation.variableValues,
      rootValue: { [subscriber.feed]: delivery.payload },
      contextValue: context,
    });
    const result = this.options.formatResult(raw);
    // Serialized here, once: the transports splice this text into each subscriber's frame.
    const json = JSON.stringify(result);
    return { result, json, bytes: Buffer.byteLength(json) };
  }

  /** A live result: held back while the subscriber replays (see replay), else delivered. */
  private push(subscriber: LiveSubscriber, delivery: Delivery, output: Executed): boolean {
    if (subscriber.channel.isClosed) return false;
    const { held } = subscriber;
    if (!held) return this.deliver(subscriber, delivery, output);
    held.bytes += output.bytes;
    // What waits behind a replay counts against the same per-connection limit as the queue.
    if (held.bytes > this.options.flow.maxBufferBytes) {
      held.items = [];
      subscriber.channel.tooSlow();
      return false;
    }
    held.items.push({ output, delivery });
    return false;
  }

  /** Hands one result to the subscriber's channel; whether it went out (not a duplicate). */
  private deliver(subscriber: LiveSubscriber, delivery: Delivery, output: Executed): boolean {
    if (subscriber.channel.isClosed) return false;
    if (delivery.dedupe !== undefined) {
      if (subscriber.seen.has(delivery.dedupe)) return false;
      const now = Date.now();
      subscriber.seen.set(delivery.dedupe, now);
      for (const [id, at] of subscriber.seen) {
        if (now - at <= SEEN_WINDOW_MS) break;
        subscriber.seen.delete(id);
      }
    }
    if (delivery.position !== undefined) subscriber.position = delivery.position;
    delivery.sent?.();
    return subscriber.channel.push(output);
  }

  /**
   * Replays into one subscriber while its live results are held back, then releases those it
   * has not had yet. Bounded like live pushes: each result is sent only once it fits within
   * REPLAY_WINDOW_BYTES beside what the client owes (so a replay holds one page of rows and one
   * result beyond what the client reads, and never trips the buffer limit itself), a client that does not read within the stall timeout ends with the slow
   * consumer error, and page reads and executions go through the replay gate (a few pool
   * connections for all replays of the process).
   */
  private async replay(subscriber: LiveSubscriber, from: 'start' | 'gap'): Promise<void> {
    const feed = this.feeds.get(subscriber.feed)!;
    if (!feed.replay) return;
    // A replay asked for while one runs (a bulk insert during a resume) runs after it, from the
    // position the first one reached.
    if (subscriber.held) {
      subscriber.held.again = true;
      return;
    }
    const held: Held = (subscriber.held = { items: [], bytes: 0, again: false });
    const { gate, stallTimeoutMs, maxBufferBytes, replayTurn } = this.options.flow;
    // A few replays per viewer at once (HUB_LIVE_MAX_REPLAYS_PER_VIEWER); the rest wait their
    // turn while the line moves, and end busy when it stood still for the stall timeout (the
    // turns are held by stalled readers): the client resubscribes.
    let endTurn: TurnEnd | undefined;
    try {
      endTurn = await replayTurn?.(subscriber.viewer.id);
    } catch (error) {
      if (!(error instanceof LimitExceeded)) throw error;
      subscriber.held = undefined;
      for (const item of held.items) this.deliver(subscriber, item.delivery, item.output);
      return void subscriber.channel.end(replaysBusyError(error));
    }
    let replayed = false;
    try {
      const scope = { viewer: subscriber.viewer, context: this.options.contextFor(subscriber.viewer) };
      for (let pass = from; ; pass = 'gap') {
        const pages = feed.replay(subscriber, scope, pass);
        if (pages === 'resync') {
          subscriber.channel.end(toResult(RESYNC_ERROR));
          return;
        }
        const iterator = pages[Symbol.asyncIterator]();
        for (;;) {
          if (subscriber.channel.isClosed) return void (await iterator.return?.());
          const page = await gate.run(() => iterator.next());
          if (page.done) break;
          for (const delivery of page.value) {
            const output = await gate.run(() => this.execute(subscriber, delivery, scope.context));
            // Sent once it fits beside what the client owes (alone, when it is larger than the window).
            const room = Math.max(0, Math.min(maxBufferBytes, REPLAY_WINDOW_BYTES) - output.bytes);
            if (!(await subscriber.channel.waitForRoom(room, stallTimeoutMs))) subscriber.channel.tooSlow();
            if (subscriber.channel.isClosed) return void (await iterator.return?.());
            if (this.deliver(subscriber, delivery, output)) this.options.metrics.delivered.inc();
          }
        }
        if (!held.again) break;
        held.again = false;
      }
      replayed = true;
    } catch (error) {
      if (error instanceof ReplaysQueueFull) subscriber.channel.end(replaysBusyError(error));
      else {
        this.options.onProblem('live replay failed', error);
        subscriber.channel.end(toResult(RESYNC_ERROR));
      }
    } finally {
      // A replay its reader never took (stalled, gone) does not count as the viewer's line moving.
      endTurn?.(replayed);
      subscriber.held = undefined;
      for (const item of held.items) if (this.deliver(subscriber, item.delivery, item.output)) this.options.metrics.delivered.inc();
    }
  }

  private recoverAll(): void {
    this.options.metrics.gaps.inc();
    // After the batches already collected, so recovery sees everything they delivered.
    this.draining = this.draining.then(() => {
      for (const subscriber of this.subscribers.values()) {
        const feed = this.feeds.get(subscriber.feed)!;
        if (feed.replay) void this.replay(subscriber, 'gap');
        else subscriber.channel.end(toResult(RESYNC_ERROR));
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
