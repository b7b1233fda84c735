import { SubscriptionMessageAddedArgs } from '../generated/schema-types';
import { ResolversParentTypes } from '../generated/resolvers-types';
import { Context } from '../context';
import { notFound } from '../errors';
import { Delivery, LiveFeed, LiveScope, LiveSubscriber } from '../live/hub';
import { LiveEvent, MessageEvent } from '../live/notifications';
import { CursorKey, decodeCursor, encodeCursor, listId } from '../pagination/cursor';
import { parseId } from '../ids';
import { SqlParams } from '../db/sql-params';
import { sessionScope } from '../sessions/session.scope';
import { endsWithSession, messageChangedSubscription } from './message-changed.feed';
import { MessageModel, messageRows } from './message.rows';

type SubscriptionRoot = ResolversParentTypes['Subscription'];

/** `messageAdded` cursors are `Session.messages` (oldest first) cursors: either resumes the other. */
const MESSAGES_LIST = listId('session.messages', 'CREATED_AT_ASC');
const BEFORE_ANY: CursorKey = ['1970-01-01T00:00:00.000Z', '00000000-0000-0000-0000-000000000000'];
const REPLAY_PAGE = 100;

/** Whether `a` comes after `b` in the messages' (createdAt, id) order; ISO times of one form and
 * lower-case uuids compare as PostgreSQL compares them. */
const isAfter = (a: CursorKey, b: CursorKey) => a[0] > b[0] || (a[0] === b[0] && a[1].toLowerCase() > b[1].toLowerCase());

export interface MessageAddedState {
  sessionId: string;
  /** Replay from here at start (`after`); never anything at or before it. */
  floor: CursorKey;
  replayFromAfter: boolean;
}

/** A read model's time is already the ISO text; a written entity's is a Date. */
const isoOf = (time: Date | string) => (typeof time === 'string' ? time : time.toISOString());

function edgeOf(message: MessageModel): Delivery {
  const key: CursorKey = [isoOf(message.createdAt), message.id];
  return {
    key: `m:${message.id}`,
    payload: { cursor: encodeCursor(MESSAGES_LIST, key), node: message },
    dedupe: message.id,
    position: key,
  };
}

/** A replay page ends after this many bytes of content (and at REPLAY_PAGE rows): a replay
 * holds one page per subscriber, so long messages make short pages (src/live/hub.ts replay). */
const REPLAY_PAGE_BYTES = 256 * 1024;

/** Listed messages of a live session in the viewer's scope, after `floor`, oldest first, one
 * page; `complete` when no message after the page existed when it was read. */
async function messagesAfter(ctx: Context, sessionId: string, floor: CursorKey): Promise<{ messages: MessageModel[]; complete: boolean }> {
  const params = new SqlParams();
  const conditions = [
    `m.session_id = ${params.add(sessionId)}::uuid`,
    's.deleted_at IS NULL',
    'm.deleted_at IS NULL',
    params.named(sessionScope(ctx.viewer, 's')),
    `(m.created_at, m.id) > (${params.add(floor[0])}::timestamptz, ${params.add(floor[1])}::uuid)`,
  ];
  const rows: (MessageModel & { pageBytes?: string })[] = await ctx.dataSource.query(
    `SELECT * FROM (
       SELECT ${messageRows.select('m')}, sum(octet_length(m.content)) OVER (ORDER BY m.created_at, m.id) AS "pageBytes"
       FROM messages m JOIN sessions s ON s.id = m.session_id
       WHERE ${conditions.join(' AND ')} ORDER BY m.created_at, m.id LIMIT ${params.limit(REPLAY_PAGE)}
     ) page WHERE page."pageBytes" - octet_length(page.content) < ${params.add(REPLAY_PAGE_BYTES)}`,
    params.values,
  );
  const bytes = Number(rows[rows.length - 1]?.pageBytes ?? 0);
  for (const row of rows) delete row.pageBytes;
  // Cut short by bytes only when the page reached the byte budget.
  return { messages: rows, complete: rows.length < REPLAY_PAGE && bytes < REPLAY_PAGE_BYTES };
}

/**
 * `messageAdded`: per batch and viewer group, the posted messages are read once through the
 * group's `messageById` loader (scope in its SQL; it primes `sessionById`); a message deleted
 * again, or in a session deleted meanwhile, is not delivered. Replays page through the
 * session's messages from the subscriber's position; message ids are delivered once.
 *
 * Exactly once across reconnects rests on one rule (src/consistency/cascades.ts
 * `messageCreatedAt`): within a session, (createdAt, id) order is commit order. So a resume
 * from a cursor and a replay after a lost LISTEN connection both read strictly after a position,
 * and nothing committed later can sort before it; and a resumed subscriber drops live events
 * at or before its `after` (a notification still in flight for a message the client had).
 */
export const messageAddedFeed: LiveFeed<MessageAddedState> = {
  name: 'messageAdded',

  async select(events: LiveEvent[], subscribers: LiveSubscriber<MessageAddedState>[], scope: LiveScope): Promise<Delivery[][]> {
    const watched = new Set(subscribers.map((s) => s.state.sessionId));
    const mine = events.filter(
      (e): e is MessageEvent => e.type === 'message' && watched.has(e.sessionId) && (scope.viewer.isAdmin || e.ownerId === scope.viewer.id),
    );
    if (mine.length === 0) return subscribers.map(() => []);
    // Read only now: a group without events builds no loaders.
    const ctx = scope.context as Context;
    const messages = await Promise.all(mine.map((e) => ctx.loaders.messageById.load(e.messageId)));
    const sessions = await Promise.all(messages.map((m) => (m ? ctx.loaders.sessionById.load(m.sessionId) : null)));
    const deliverable = messages.filter((m, i): m is MessageModel => Boolean(m && !m.deletedAt && sessions[i] && !sessions[i]!.deletedAt));
    // Each edge is built once and shared by the session's subscribers (the hub executes it once).
    const edges = new Map<string, Delivery[]>();
    for (const message of deliverable) {
      const list = edges.get(message.sessionId);
      if (list) list.push(edgeOf(message));
      else edges.set(message.sessionId, [edgeOf(message)]);
    }
    return subscribers.map(({ state }) => {
      const mine = edges.get(state.sessionId) ?? [];
      return state.replayFromAfter ? mine.filter((edge) => isAfter(edge.position as CursorKey, state.floor)) : mine;
    });
  },

  async *replay(subscriber: LiveSubscriber<MessageAddedState>, scope: LiveScope, from: 'start' | 'gap') {
    const ctx = scope.context as Context;
    const { state } = subscriber;
    if (from === 'start' && !state.replayFromAfter) {
      // No `after`: start from the newest message now (LISTEN is already active, so nothing
      // committed later can be missed), and replay after a gap never reaches further back.
      const [last] = await ctx.dataSource.query(
        `SELECT m.created_at, m.id FROM messages m WHERE m.session_id = $1 ORDER BY m.created_at DESC, m.id DESC LIMIT 1`,
        [state.sessionId],
      );
      if (last) state.floor = [new Date(last.created_at).toISOString(), last.id];
      return;
    }
    // After a gap: from the last message delivered (or the floor, if none was).
    const position = subscriber.position as CursorKey | undefined;
    let cursor = from === 'gap' && position && isAfter(position, state.floor) ? position : state.floor;
    for (;;) {
      const { messages: page, complete } = await messagesAfter(ctx, state.sessionId, cursor);
      if (page.length === 0) return;
      yield page.filter((m) => !subscriber.seen.has(m.id)).map(edgeOf);
      if (complete) return;
      const last = page[page.length - 1];
      cursor = [isoOf(last.createdAt), last.id];
    }
  },

  // The replay reads through the viewer's scope, so an event about a session the subscriber may
  // not see replays nothing.
  replaysOn: (event, subscriber) => event.type === 'messagesBulk' && event.sessionId === subscriber.state.sessionId,

  ends: (event, subscriber) => endsWithSession(event, subscriber.state.sessionId),
};

/**
 * `Subscription.messageAdded`: NOT_FOUND for a session the viewer may not see, or a deleted one
 * (at the start, or later as its last result).
 * The live transports execute each delivery themselves (src/live), so `subscribe` returns executed
 * results rather than the root payloads of codegen's SubscriptionResolver: parent and arguments are
 * typed from the schema, the result by the live registrar.
 */
export const messageSubscriptions = {
  Subscription: {
    messageAdded: {
      subscribe: async (_: SubscriptionRoot, args: SubscriptionMessageAddedArgs, ctx: Context) => {
        const sessionId = parseId(args.sessionId, 'sessionId');
        const after = decodeCursor(MESSAGES_LIST, args.after, 'time');
        const session = await ctx.loaders.sessionById.load(sessionId);
        if (!session || session.deletedAt) throw notFound('Session', sessionId);
        const state: MessageAddedState = { sessionId, floor: after ?? BEFORE_ANY, replayFromAfter: Boolean(after) };
        return ctx.live!.subscribe<MessageAddedState>('messageAdded', state, { replay: true });
      },
    },
    messageChanged: messageChangedSubscription,
  },
};
