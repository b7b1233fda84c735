import { ResolversParentTypes, SubscriptionSessionChangedArgs } from '../generated/resolvers-types';
import { Context } from '../context';
import { Delivery, LiveFeed, LiveScope, LiveSubscriber } from '../live/hub';
import { LiveEvent, SessionEvent } from '../live/notifications';
import { SqlParams } from '../pagination/sql-params';
import { SessionModel } from './session.rows';
import { filterConditions, matchesKnown, parseSessionFilter, SessionFilter } from './session.filter';
import { sessionScope } from './session.scope';

type SubscriptionRoot = ResolversParentTypes['Subscription'];

export interface SessionChangedState {
  filter: SessionFilter;
}

/** The parts of a filter decided from the session row itself, without a query. */
function matchesRow(filter: SessionFilter, session: SessionModel): boolean {
  return matchesKnown(filter, { deleted: Boolean(session.deletedAt), ownerId: session.userId, isSyncing: session.isSyncing });
}

const needsQuery = (filter: SessionFilter) => filter.skillId !== undefined || filter.nodeId !== undefined;

/**
 * A purge leaves no row, so its event is matched on the session just before the purge, as the
 * notification describes it (owner, deleted and syncing state, the skills and nodes it had): a
 * subscriber gets PURGED exactly for the sessions that `sessions(filter)` could have listed for
 * it then, and learns only the id. (A notification from a database without the LivePurgeDetails
 * migration names no skills or nodes: skill and node conditions then count as matched.)
 */
function purgeMatches(filter: SessionFilter, event: SessionEvent): boolean {
  if (!matchesKnown(filter, { deleted: event.wasDeleted, ownerId: event.ownerId, isSyncing: event.wasSyncing })) return false;
  if (filter.skillId !== undefined && event.had && !event.had.skillIds.includes(filter.skillId)) return false;
  if (filter.nodeId !== undefined && event.had && !event.had.nodeIds.includes(filter.nodeId)) return false;
  return true;
}

/** Which of `ids` match a filter's skill/node conditions, within the viewer's scope: one statement. */
async function idsMatching(ctx: Context, filter: SessionFilter, ids: string[]): Promise<Set<string>> {
  const params = new SqlParams();
  const conditions = [`s.id = ANY(${params.add(ids)}::uuid[])`, params.named(sessionScope(ctx.viewer, 's')), ...filterConditions(filter, 's', params)];
  const rows: { id: string }[] = await ctx.dataSource.query(`SELECT s.id FROM sessions s WHERE ${conditions.join(' AND ')}`, params.values);
  return new Set(rows.map((r) => r.id));
}

/**
 * `sessionChanged`: per batch and viewer group, the changed sessions are read once through the
 * group's `sessionById` loader (the viewer's scope is in its SQL, so a session the viewer may not
 * see is never delivered), each distinct skill/node filter costs one statement, and the rest of a
 * filter is checked on the row. A member's events about other members' sessions are dropped
 * before any query, by the owner id the notification carries.
 */
export const sessionChangedFeed: LiveFeed<SessionChangedState> = {
  name: 'sessionChanged',

  async select(events: LiveEvent[], subscribers: LiveSubscriber<SessionChangedState>[], scope: LiveScope): Promise<Delivery[][]> {
    const ctx = scope.context as Context;
    const mine = events.filter(
      (e): e is SessionEvent => e.type === 'session' && (scope.viewer.isAdmin || e.ownerId === scope.viewer.id),
    );
    if (mine.length === 0) return subscribers.map(() => []);
    const ids = [...new Set(mine.filter((e) => e.kind !== 'PURGED').map((e) => e.sessionId))];
    const rows = await Promise.all(ids.map((id) => ctx.loaders.sessionById.load(id)));
    const sessions = new Map(rows.flatMap((row) => (row ? [[row.id, row] as const] : [])));
    const queried = new Map<string, Promise<Set<string>>>();
    for (const { state } of subscribers) {
      if (needsQuery(state.filter) && !queried.has(state.filter.key) && sessions.size > 0) {
        queried.set(state.filter.key, idsMatching(ctx, state.filter, [...sessions.keys()]));
      }
    }
    const matched = new Map<string, Set<string>>();
    for (const [key, promise] of queried) matched.set(key, await promise);

    return subscribers.map(({ state: { filter } }) =>
      mine.flatMap((event): Delivery[] => {
        const key = `${event.kind}:${event.sessionId}:${event.at.getTime()}`;
        const change = { kind: event.kind, sessionId: event.sessionId, at: event.at };
        if (event.kind === 'PURGED') return purgeMatches(filter, event) ? [{ key, payload: { ...change, session: null } }] : [];
        const session = sessions.get(event.sessionId);
        if (!session || !matchesRow(filter, session)) return [];
        if (needsQuery(filter) && !matched.get(filter.key)?.has(session.id)) return [];
        return [{ key, payload: { ...change, session } }];
      }),
    );
  },

  // Session changes are not kept anywhere to replay from: after a lost LISTEN connection the
  // subscriber ends with the LIVE_RESYNC error, and the client refetches and subscribes again.
  replay: () => 'resync',
};

/** `Subscription.sessionChanged` (typed like `messageAdded`, see message.subscriptions.ts). */
export const sessionSubscriptions = {
  Subscription: {
    sessionChanged: {
      subscribe: (_: SubscriptionRoot, args: SubscriptionSessionChangedArgs, ctx: Context) => {
        const filter = parseSessionFilter(args.filter);
        return ctx.live!.subscribe<SessionChangedState>('sessionChanged', { filter });
      },
    },
  },
};
