import { SubscriptionSessionChangedArgs } from '../generated/schema-types';
import { ResolversParentTypes } from '../generated/resolvers-types';
import { Context } from '../context';
import { badField } from '../errors';
import { Delivery, LiveFeed, LiveScope, LiveSubscriber } from '../live/hub';
import { LiveEvent, SessionEvent } from '../live/notifications';
import { linksKey } from './session.loaders';
import { SessionModel } from './session.rows';
import { matchesKnown, parseSessionFilter, SessionFilter } from './session.filter';

type SubscriptionRoot = ResolversParentTypes['Subscription'];

export interface SessionChangedState {
  filter: SessionFilter;
  /** The filter as text: subscribers with equal filters get the same deliveries. */
  filterKey: string;
}

const needsQuery = (filter: SessionFilter) => filter.skillId !== undefined || filter.nodeId !== undefined;
/** The skill/node pair a filter asks about: filters with equal pairs share their reads. */
const pairKey = (filter: SessionFilter) => JSON.stringify([filter.skillId ?? null, filter.nodeId ?? null]);

/** Whether a session has a filter's skill and node (conditions the filter does not set count as met). */
interface Links {
  skill: boolean;
  node: boolean;
}

const NO_LINKS: Links = { skill: false, node: false };
const ALL_LINKS: Links = { skill: true, node: true };

/** Whether `sessions(filter)` lists the session now: its row (in the viewer's scope) and its links. */
function inFilter(filter: SessionFilter, session: SessionModel, links: Links): boolean {
  if (!matchesKnown(filter, { deleted: Boolean(session.deletedAt), ownerId: session.userId, isSyncing: session.isSyncing })) return false;
  return (filter.skillId === undefined || links.skill) && (filter.nodeId === undefined || links.node);
}

/**
 * Whether `sessions(filter)` listed the session before the change, from what the notification
 * says (the states before, as the writing transaction saw them, and the links and nodes the
 * change removed) and `linksThen`: the links it is known to have had. Merged events may say more
 * than one state: any of them counts, so a subscriber may get a change that leaves nothing to do
 * (inFilter false for a session it does not list), never miss one. A purge without its details
 * (an older database) counts skill and node conditions as met.
 */
function listedBefore(filter: SessionFilter, event: SessionEvent, linksThen: Links): boolean {
  const { before, removed } = event;
  if (!before?.some((state) => matchesKnown(filter, { deleted: state.deleted, ownerId: event.ownerId, isSyncing: state.syncing }))) return false;
  if (!removed) return event.kind === 'PURGED';
  const hadSkill = filter.skillId === undefined || linksThen.skill || removed.skillIds.includes(filter.skillId);
  const hadNode = filter.nodeId === undefined || linksThen.node || removed.nodeIds.includes(filter.nodeId);
  return hadSkill && hadNode;
}

/**
 * The links a session had at a change, for `listedBefore`. A change that moved the session's own
 * state (deleted, syncing) says which it had (`event.had`, from the writing transaction): such a
 * change is the one that makes the session leave a filter by its row, so it must tell exactly,
 * however late its batch reads the session. Any other change is judged on the links read now
 * (`now`), later than the change: a link removed since comes with an event of its own that tells
 * the leave, and a row that left the filter since did so by a change that says what it had.
 * `now` undefined: the session was not there to read (purged since): conditions count as met.
 */
function linksAtChange(filter: SessionFilter, event: SessionEvent, now: Links | undefined): Links {
  if (!needsQuery(filter)) return NO_LINKS;
  if (event.had) {
    return {
      skill: filter.skillId !== undefined && event.had.skillIds.includes(filter.skillId),
      node: filter.nodeId !== undefined && event.had.nodeIds.includes(filter.nodeId),
    };
  }
  return now ?? ALL_LINKS;
}

/**
 * `sessionChanged`: a change reaches every subscriber whose filter listed the session before it
 * or lists it after it, with `inFilter` saying which holds after. Per batch and viewer group,
 * the changed sessions are read once through the group's `sessionById` loader (the viewer's
 * scope is in its SQL, so a session the viewer may not see is never delivered), the skill/node
 * pairs of the group's filters through `sessionLinks` (one statement for the batch), and the rest is checked on the
 * row and on the state before that the notification carries. A member's events about other
 * members' sessions are dropped before any query, by the owner id the notification carries. A
 * session gone by the time it is read was purged: the change reaches, as leaving, every filter
 * that listed it before (the PURGED event that follows reaches only those that listed it then).
 */
export const sessionChangedFeed: LiveFeed<SessionChangedState> = {
  name: 'sessionChanged',

  async select(events: LiveEvent[], subscribers: LiveSubscriber<SessionChangedState>[], scope: LiveScope): Promise<Delivery[][]> {
    const mine = events.filter(
      (e): e is SessionEvent => e.type === 'session' && (scope.viewer.isAdmin || e.ownerId === scope.viewer.id),
    );
    if (mine.length === 0) return subscribers.map(() => []);
    // Read only now: a group without events builds no loaders.
    const ctx = scope.context as Context;
    const ids = [...new Set(mine.filter((e) => e.kind !== 'PURGED').map((e) => e.sessionId))];
    const rows = await Promise.all(ids.map((id) => ctx.loaders.sessionById.load(id)));
    const sessions = new Map(rows.flatMap((row) => (row ? [[row.id, row] as const] : [])));
    // Each distinct skill/node pair of the filters, for each session read: the batch's one
    // `sessionLinks` statement (with every other viewer group's).
    const queried = new Map<string, Promise<Map<string, Links>>>();
    for (const { state } of subscribers) {
      if (!needsQuery(state.filter) || queried.has(pairKey(state.filter))) continue;
      const { skillId = null, nodeId = null } = state.filter;
      queried.set(
        pairKey(state.filter),
        Promise.all([...sessions.keys()].map(async (id) => [id, await ctx.loaders.sessionLinks.load(linksKey(id, skillId, nodeId))] as const)).then(
          (read) => new Map(read.flatMap(([id, found]) => (found ? [[id, found] as const] : []))),
        ),
      );
    }
    const links = new Map<string, Map<string, Links>>();
    for (const [key, promise] of queried) links.set(key, await promise);

    const changesFor = (filter: SessionFilter): Delivery[] =>
      mine.flatMap((event): Delivery[] => {
        const change = { kind: event.kind, sessionId: event.sessionId, at: event.at };
        if (event.kind === 'PURGED') {
          if (!listedBefore(filter, event, NO_LINKS)) return [];
          return [{ key: `${event.kind}:${event.sessionId}:${event.at.getTime()}`, payload: { ...change, session: null, inFilter: false } }];
        }
        const session = sessions.get(event.sessionId);
        if (!session) {
          // Purged since the change: it has left every filter. Its PURGED event reaches only the
          // filters that listed it at the purge (a deleted session, not the active ones), so
          // this change tells those that listed it before (see linksAtChange).
          if (!listedBefore(filter, event, linksAtChange(filter, event, undefined))) return [];
          return [{ key: `${event.kind}:${event.sessionId}:${event.at.getTime()}:gone`, payload: { ...change, session: null, inFilter: false } }];
        }
        // Undefined: the row was read, but its links were gone by the time they were (purged).
        const now = needsQuery(filter) ? links.get(pairKey(filter))?.get(session.id) : NO_LINKS;
        const listed = now !== undefined && inFilter(filter, session, now);
        if (!listed && !listedBefore(filter, event, linksAtChange(filter, event, now))) return [];
        // The filter is in the document's key, so one key serves every subscriber sharing both.
        return [{ key: `${event.kind}:${event.sessionId}:${event.at.getTime()}:${listed}`, payload: { ...change, session, inFilter: listed } }];
      });
    // Deliveries depend on the filter alone: worked out once per distinct filter, and each one
    // shared by the subscribers it reaches (the hub executes it once per document).
    const byFilter = new Map<string, Delivery[]>();
    return subscribers.map(({ state }) => {
      let deliveries = byFilter.get(state.filterKey);
      if (!deliveries) byFilter.set(state.filterKey, (deliveries = changesFor(state.filter)));
      return deliveries;
    });
  },

  // Session changes are not kept anywhere to replay from: after a lost LISTEN connection the
  // subscriber ends with the LIVE_RESYNC error, and the client refetches and subscribes again.
  replay: () => 'resync',
};

/** `Subscription.sessionChanged` (typed like `messageAdded`, see message.feed.ts). */
export const sessionSubscriptions = {
  Subscription: {
    sessionChanged: {
      subscribe: (_: SubscriptionRoot, args: SubscriptionSessionChangedArgs, ctx: Context) => {
        const filter = parseSessionFilter(args.filter);
        // A change to any message can change a search match, and a purge leaves nothing to match.
        if (filter.search !== undefined) throw badField('filter.search', 'cannot be matched live: subscribe without it and refetch the search');
        return ctx.live!.subscribe<SessionChangedState>('sessionChanged', { filter, filterKey: JSON.stringify(filter) });
      },
    },
  },
};
