import { ExecutionResult } from 'graphql';
import { SubscriptionMessageChangedArgs } from '../generated/schema-types';
import { ResolversParentTypes } from '../generated/resolvers-types';
import { Context } from '../context';
import { notFound } from '../errors';
import { Delivery, LiveFeed, LiveScope, LiveSubscriber } from '../live/hub';
import { LiveEvent, MessageChangedEvent, MessageDeletedEvent, MessageEvent } from '../live/notifications';
import { CursorKey, decodeCursor, encodeCursor, listId } from '../pagination/cursor';
import { parseId } from '../ids';
import { SqlParams } from '../db/sql-params';
import { sessionScope } from '../sessions/session.scope';
import { MessageModel } from './message.rows';
import { characterCount } from './message-usage';
import { deltaOf, readTails } from './message-deltas';

type SubscriptionRoot = ResolversParentTypes['Subscription'];

/** A change's position: its time on the session's message clock (a post's `created_at`, a
 * deletion's stamp in `message_deletions`) and the message id. */
const CHANGES_LIST = listId('message.changes', 'COMMIT');
const BEFORE_ANY: CursorKey = ['1970-01-01T00:00:00.000Z', '00000000-0000-0000-0000-000000000000'];
const REPLAY_PAGE = 100;

/** (time, id) order, as PostgreSQL compares ISO times of one form and lower-case uuids. */
const isAfter = (a: CursorKey, b: CursorKey) => a[0] > b[0] || (a[0] === b[0] && a[1].toLowerCase() > b[1].toLowerCase());

const isoOf = (time: Date | string) => (typeof time === 'string' ? time : time.toISOString());

export interface MessageChangedState {
  sessionId: string;
  /** Nothing at or before it is delivered: the client's `after`, or where the stream started. */
  floor: CursorKey;
  replayFromAfter: boolean;
  /** Per streamed message, the content length this subscriber was sent (posted content, deltas, a
   * replayed whole), counted as each is sent (Delivery.sent), never when chosen: a delivery held
   * behind a replay may yet be dropped as a duplicate. An announced append within it is not sent again. */
  lengths: Map<string, number>;
}

function added(message: MessageModel): Delivery {
  const position: CursorKey = [isoOf(message.createdAt), message.id];
  return {
    key: `a:${message.id}`,
    payload: { kind: 'ADDED', messageId: message.id, message, cursor: encodeCursor(CHANGES_LIST, position) },
    dedupe: `a:${message.id}`,
    position,
  };
}

/** An append or a finish (UPDATED): `delta` at `offset`; `message` is read only if selected
 * (MessageChange.message), or given (a replay read it anyway). */
function updated(messageId: string, changedAt: string, offset: number, delta: string, message?: MessageModel): Delivery {
  const position: CursorKey = [changedAt, messageId];
  return {
    key: `u:${messageId}:${changedAt}`,
    payload: { kind: 'UPDATED', messageId, message, cursor: encodeCursor(CHANGES_LIST, position), delta, offset },
    dedupe: `u:${messageId}:${changedAt}`,
    position,
  };
}

/** `delivery`, recording once it is sent that the subscriber has `length` characters of the
 * message's content (never less than before). */
function counting(delivery: Delivery, state: MessageChangedState, messageId: string, length: number): Delivery {
  delivery.sent = () => state.lengths.set(messageId, Math.max(length, state.lengths.get(messageId) ?? 0));
  return delivery;
}

function deleted(messageId: string, deletedAt: string): Delivery {
  const position: CursorKey = [deletedAt, messageId];
  return {
    key: `d:${messageId}`,
    payload: { kind: 'DELETED', messageId, message: null, cursor: encodeCursor(CHANGES_LIST, position) },
    dedupe: `d:${messageId}`,
    position,
  };
}

/** The session's changes after `from`, in commit order, one page: posts still listed and logged
 * deletions, while the session is live and in the viewer's scope. */
async function changesAfter(ctx: Context, sessionId: string, from: CursorKey): Promise<{ kind: 'A' | 'D' | 'U'; at: Date; id: string }[]> {
  const params = new SqlParams();
  const session = params.add(sessionId);
  const time = params.add(from[0]);
  const id = params.add(from[1]);
  const scope = params.named(sessionScope(ctx.viewer, 's'));
  const limit = params.limit(REPLAY_PAGE);
  return ctx.dataSource.query(
    `SELECT c.kind, c.at, c.id FROM (
       (SELECT 'A' AS kind, m.created_at AS at, m.id FROM messages m
        WHERE m.session_id = ${session}::uuid AND m.deleted_at IS NULL AND (m.created_at, m.id) > (${time}::timestamptz, ${id}::uuid)
        ORDER BY m.created_at, m.id LIMIT ${limit})
       UNION ALL
       (SELECT 'D', d.deleted_at, d.message_id FROM message_deletions d
        WHERE d.session_id = ${session}::uuid AND (d.deleted_at, d.message_id) > (${time}::timestamptz, ${id}::uuid)
        ORDER BY d.deleted_at, d.message_id LIMIT ${limit})
       UNION ALL
       (SELECT 'U', m.changed_at, m.id FROM messages m
        WHERE m.session_id = ${session}::uuid AND m.deleted_at IS NULL AND m.changed_at IS NOT NULL
          AND (m.changed_at, m.id) > (${time}::timestamptz, ${id}::uuid) AND (m.created_at, m.id) <= (${time}::timestamptz, ${id}::uuid)
        ORDER BY m.changed_at, m.id LIMIT ${limit})) c
     WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.id = ${session}::uuid AND s.deleted_at IS NULL AND ${scope})
     ORDER BY c.at, c.id LIMIT ${limit}`,
    params.values,
  );
}

/** The newest position of the session's changes (or none). */
async function newestChange(ctx: Context, sessionId: string): Promise<CursorKey | undefined> {
  const [row] = await ctx.dataSource.query(
    `SELECT c.at, c.id FROM (
       (SELECT m.created_at AS at, m.id FROM messages m WHERE m.session_id = $1 ORDER BY m.created_at DESC, m.id DESC LIMIT 1)
       UNION ALL
       (SELECT d.deleted_at, d.message_id FROM message_deletions d WHERE d.session_id = $1 ORDER BY d.deleted_at DESC, d.message_id DESC LIMIT 1)
       UNION ALL
       (SELECT m.changed_at, m.id FROM messages m WHERE m.session_id = $1 AND m.changed_at IS NOT NULL ORDER BY m.changed_at DESC, m.id DESC LIMIT 1)) c
     ORDER BY c.at DESC, c.id DESC LIMIT 1`,
    [sessionId],
  );
  return row ? [new Date(row.at).toISOString(), row.id] : undefined;
}

/** How a follower of a session (`messageAdded`, `messageChanged`) ends when the session goes: it
 * was deleted or purged (its owner's deletion purges it), so the follower may no longer see it. */
export function endsWithSession(event: LiveEvent, sessionId: string): ExecutionResult | false {
  if (event.type !== 'session' || event.sessionId !== sessionId || (event.kind !== 'DELETED' && event.kind !== 'PURGED')) return false;
  return { errors: [notFound('Session', sessionId)] };
}

/**
 * `messageChanged`: a session's messages posted, deleted and (streamed ones) appended to or
 * finished, in commit order. Exactly once across
 * reconnects rests on the session's message clock (migrations LiveBeforeState, MessageOrder):
 * posts and logged deletions are stamped under the session's lock, each strictly after every
 * earlier one, so (time, id) order is commit order and a resume reads strictly after a position.
 * Per batch and viewer group, the posted messages are read once through `messageById` (a message
 * deleted meanwhile is left out: its DELETED follows); deletions carry their position in the
 * notification and cost nothing; appends and finishes (stamped on the same clock, `changed_at`) are
 * UPDATEDs whose text is read by (id, offset) in one statement for the batch (`readTails`). A
 * resume replays, for each message changed since its position, the whole content so far (offset 0),
 * then the later appends; an append the subscriber already has within content it was sent is
 * not sent again, and each carries its offset, so nothing is lost or applied twice. The
 * subscriber ends with NOT_FOUND once its session is deleted
 * or purged (its owner's deletion purges it).
 */
export const messageChangedFeed: LiveFeed<MessageChangedState> = {
  name: 'messageChanged',

  async select(events: LiveEvent[], subscribers: LiveSubscriber<MessageChangedState>[], scope: LiveScope): Promise<Delivery[][]> {
    const watched = new Set(subscribers.map((s) => s.state.sessionId));
    const mine = events.filter(
      (e): e is MessageEvent | MessageDeletedEvent | MessageChangedEvent =>
        (e.type === 'message' || e.type === 'messageDeleted' || e.type === 'messageChanged') &&
        watched.has(e.sessionId) &&
        (scope.viewer.isAdmin || e.ownerId === scope.viewer.id),
    );
    if (mine.length === 0) return subscribers.map(() => []);
    // Read only now: a group without events builds no loaders.
    const ctx = scope.context as Context;
    const posted = mine.filter((e) => e.type === 'message');
    const changed = mine.filter((e): e is MessageChangedEvent => e.type === 'messageChanged');
    const messages = new Map<string, MessageModel | null>();
    // One statement per kind whatever the number of posts and appends: the loader's, and the tails'.
    const [rows, tails] = await Promise.all([Promise.all(posted.map((e) => ctx.loaders.messageById.load(e.messageId))), readTails(ctx, changed)]);
    posted.forEach((e, i) => messages.set(e.messageId, rows[i]));
    return subscribers.map(({ state }) =>
      mine.flatMap((event): Delivery[] => {
        if (event.sessionId !== state.sessionId) return [];
        let delivery: Delivery;
        if (event.type === 'messageDeleted') delivery = deleted(event.messageId, event.deletedAt);
        else if (event.type === 'message') {
          const message = messages.get(event.messageId);
          if (!message || message.deletedAt) return [];
          delivery = counting(added(message), state, message.id, characterCount(message.content));
        } else {
          const delta = deltaOf(tails, event);
          // Gone meanwhile (its DELETED or the session's end follows), or already sent within posted content.
          const end = event.offset + event.length;
          if (delta === undefined || (event.length > 0 && end <= (state.lengths.get(event.messageId) ?? 0))) return [];
          delivery = counting(updated(event.messageId, event.changedAt, event.offset, delta), state, event.messageId, end);
        }
        return isAfter(delivery.position as CursorKey, state.floor) ? [delivery] : [];
      }),
    );
  },

  async *replay(subscriber: LiveSubscriber<MessageChangedState>, scope: LiveScope, from: 'start' | 'gap') {
    const ctx = scope.context as Context;
    const { state } = subscriber;
    if (from === 'start' && !state.replayFromAfter) {
      // From now: LISTEN is already active, so nothing committed later is missed.
      state.floor = (await newestChange(ctx, state.sessionId)) ?? state.floor;
      return;
    }
    const position = subscriber.position as CursorKey | undefined;
    let cursor = from === 'gap' && position && isAfter(position, state.floor) ? position : state.floor;
    for (;;) {
      const page = await changesAfter(ctx, state.sessionId, cursor);
      if (page.length === 0) return;
      const read = await Promise.all(page.map((c) => (c.kind === 'D' ? null : ctx.loaders.messageById.load(c.id))));
      yield page
        .flatMap((change, i) => {
          const at = new Date(change.at).toISOString();
          if (change.kind === 'D') return [deleted(change.id, at)];
          const message = read[i];
          if (!message || message.deletedAt) return [];
          // A message changed since the position: its whole content so far, then its later appends.
          const whole = change.kind === 'A' ? added(message) : updated(message.id, at, 0, message.content, message);
          return [counting(whole, state, message.id, characterCount(message.content))];
        })
        .filter((delivery) => !subscriber.seen.has(delivery.dedupe!));
      if (page.length < REPLAY_PAGE) return;
      const last = page[page.length - 1];
      cursor = [new Date(last.at).toISOString(), last.id];
    }
  },

  replaysOn: (event, subscriber) => event.type === 'messagesBulk' && event.sessionId === subscriber.state.sessionId,

  ends: (event, subscriber) => endsWithSession(event, subscriber.state.sessionId),
};

/** `Subscription.messageChanged` (typed like `messageAdded`, see message.subscriptions.ts). */
export const messageChangedSubscription = {
  subscribe: async (_: SubscriptionRoot, args: SubscriptionMessageChangedArgs, ctx: Context) => {
    const sessionId = parseId(args.sessionId, 'sessionId');
    const after = decodeCursor(CHANGES_LIST, args.after, 'time');
    const session = await ctx.loaders.sessionById.load(sessionId);
    if (!session || session.deletedAt) throw notFound('Session', sessionId);
    const state: MessageChangedState = { sessionId, floor: after ?? BEFORE_ANY, replayFromAfter: Boolean(after), lengths: new Map() };
    return ctx.live!.subscribe<MessageChangedState>('messageChanged', state, { replay: true });
  },
};
