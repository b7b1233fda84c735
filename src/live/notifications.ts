/**
 * What the `hub_live` NOTIFY payloads announce (see the LiveNotifyTriggers, LivePurgeDetails and
 * LiveBeforeState migrations): ids and the state a session had before a change, parsed into
 * events. Unknown or malformed entries are dropped, never thrown: a payload written by a newer
 * server version must not stop an older one's listener.
 */

export const LIVE_CHANNEL = 'hub_live';

export type SessionChangeKind = 'CREATED' | 'UPDATED' | 'DELETED' | 'RESTORED' | 'PURGED';

const KINDS: Record<string, SessionChangeKind> = { C: 'CREATED', U: 'UPDATED', D: 'DELETED', R: 'RESTORED', P: 'PURGED' };

/** What decides a session's place in a filter besides its owner (which never changes) and its
 * skill links and node sync rows. */
export interface SessionState {
  deleted: boolean;
  syncing: boolean;
}

/** Skill links and node sync rows of a session: those a change removed (a purge: all it had),
 * or those it had at a change (`SessionEvent.had`). */
export interface Removed {
  skillIds: string[];
  nodeIds: string[];
}

export interface SessionEvent {
  type: 'session';
  kind: SessionChangeKind;
  sessionId: string;
  ownerId: string;
  /** The states the session had before the change (several once a batch merges its changes), as
   * the writing transaction saw them; undefined: not announced (a database before LiveBeforeState). */
  before?: SessionState[];
  /** The links and nodes the change removed; undefined: not announced. With `before`, "it had
   * skill k before" is "it has k now, or the change removed it". */
  removed?: Removed;
  /** The links and nodes the session had at the change, as the writing transaction saw them:
   * announced when the change moved the session's own state (deleted or syncing), the change
   * that makes it leave a filter by its row; undefined for other changes (see LiveLinksAtChange). */
  had?: Removed;
  at: Date;
}

/** A link or node of a session, announced just before its session's entry (see
 * DetailAssembler): one the change removed, or one the session had at the change. */
export interface LinkDetail {
  type: 'linkDetail';
  list: 'removed' | 'had';
  sessionId: string;
  skillId?: string;
  nodeId?: string;
}

export interface MessageEvent {
  type: 'message';
  messageId: string;
  sessionId: string;
  ownerId: string;
  at: Date;
}

/** One statement inserted many messages into this session (a bulk load): followers replay. */
export interface MessagesBulkEvent {
  type: 'messagesBulk';
  sessionId: string;
  ownerId: string;
  at: Date;
}

export interface UserDeletedEvent {
  type: 'userDeleted';
  userId: string;
  at: Date;
}

/** A message of a live session was deleted, at `deletedAt` on its session's message clock (the
 * `message_deletions` log). */
export interface MessageDeletedEvent {
  type: 'messageDeleted';
  messageId: string;
  sessionId: string;
  ownerId: string;
  /** ISO time, milliseconds. */
  deletedAt: string;
  at: Date;
}

/** A streamed message of a live session grew by `length` characters at `offset` (0: its stream
 * ended, see `Message.status`), at `changedAt` on its session's message clock (migration
 * StreamedMessages). The text itself is read by (id, offset): it may not fit in a payload. */
export interface MessageChangedEvent {
  type: 'messageChanged';
  messageId: string;
  sessionId: string;
  ownerId: string;
  /** ISO time, milliseconds. */
  changedAt: string;
  offset: number;
  length: number;
  at: Date;
}

export type LiveEvent = SessionEvent | MessageEvent | MessageDeletedEvent | MessageChangedEvent | MessagesBulkEvent | UserDeletedEvent;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isId = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The events of one NOTIFY payload, in the order the trigger wrote them. */
export function parseNotification(payload: string | undefined): (LiveEvent | LinkDetail)[] {
  let parsed: { at?: unknown; e?: unknown };
  try {
    parsed = JSON.parse(payload ?? '');
  } catch {
    return [];
  }
  if (!parsed || !Array.isArray(parsed.e)) return [];
  const at = typeof parsed.at === 'string' && !Number.isNaN(Date.parse(parsed.at)) ? new Date(parsed.at) : new Date();
  const events: (LiveEvent | LinkDetail)[] = [];
  for (const entry of parsed.e as unknown[]) {
    if (!Array.isArray(entry)) continue;
    const [tag, a, b, c, d, e, f, g] = entry;
    if (tag === 'S' && typeof a === 'string' && KINDS[a] && isId(b) && isId(c)) {
      const event: SessionEvent = { type: 'session', kind: KINDS[a], sessionId: b, ownerId: c, at };
      // A PURGED entry always carried the state before; others do with the trailing 1.
      if (f === 1 || KINDS[a] === 'PURGED') event.before = [{ deleted: d === 1, syncing: e === 1 }];
      if (f === 1) event.removed = { skillIds: [], nodeIds: [] };
      if (f === 1 && g === 1) event.had = { skillIds: [], nodeIds: [] };
      events.push(event);
    } else if ((tag === 'K' || tag === 'H') && isId(a) && isId(b)) {
      events.push({ type: 'linkDetail', list: tag === 'K' ? 'removed' : 'had', sessionId: a, skillId: b.toLowerCase() });
    } else if ((tag === 'N' || tag === 'O') && isId(a) && typeof b === 'string') {
      events.push({ type: 'linkDetail', list: tag === 'N' ? 'removed' : 'had', sessionId: a, nodeId: b });
    } else if (tag === 'M' && isId(a) && isId(b) && isId(c)) {
      events.push({ type: 'message', messageId: a, sessionId: b, ownerId: c, at });
    } else if (tag === 'Y' && isId(a) && isId(b) && isId(c) && typeof d === 'string' && ISO_MS.test(d)) {
      events.push({ type: 'messageDeleted', messageId: a, sessionId: b, ownerId: c, deletedAt: d, at });
    } else if (tag === 'G' && isId(a) && isId(b) && isId(c) && typeof d === 'string' && ISO_MS.test(d) && isCount(e) && isCount(f)) {
      events.push({ type: 'messageChanged', messageId: a, sessionId: b, ownerId: c, changedAt: d, offset: e, length: f, at });
    } else if (tag === 'B' && isId(a) && isId(b)) {
      events.push({ type: 'messagesBulk', sessionId: a, ownerId: b, at });
    } else if (tag === 'X' && isId(a)) {
      events.push({ type: 'userDeleted', userId: a, at });
    }
  }
  return events;
}

/**
 * Joins the links and nodes announced for a session (removed, or had) to its session's entry.
 * The triggers write a session's K/N/H/O entries right before its S entry, in one transaction,
 * whose notifications arrive together and in order; a long list may span several payloads, so
 * one assembler follows one LISTEN connection (a new connection starts a new one: what a lost
 * connection cut off is a gap anyway).
 */
export class DetailAssembler {
  private details = new Map<string, Record<LinkDetail['list'], { skillIds: Set<string>; nodeIds: Set<string> }>>();

  /** The payload's events, session entries with their links; details are held until then. */
  accept(events: (LiveEvent | LinkDetail)[]): LiveEvent[] {
    const out: LiveEvent[] = [];
    const list = () => ({ skillIds: new Set<string>(), nodeIds: new Set<string>() });
    const asLinks = (sets: { skillIds: Set<string>; nodeIds: Set<string> }) => ({ skillIds: [...sets.skillIds], nodeIds: [...sets.nodeIds] });
    for (const event of events) {
      if (event.type === 'linkDetail') {
        let held = this.details.get(event.sessionId);
        if (!held) this.details.set(event.sessionId, (held = { removed: list(), had: list() }));
        if (event.skillId) held[event.list].skillIds.add(event.skillId);
        if (event.nodeId !== undefined) held[event.list].nodeIds.add(event.nodeId);
        continue;
      }
      if (event.type === 'session') {
        const held = this.details.get(event.sessionId);
        this.details.delete(event.sessionId);
        if (event.removed && held) event.removed = asLinks(held.removed);
        if (event.had && held) event.had = asLinks(held.had);
      }
      out.push(event);
    }
    return out;
  }
}

/** Unions what several events of one session say about it before their changes. */
function mergeBefore(events: SessionEvent[]): Pick<SessionEvent, 'before' | 'removed' | 'had'> {
  const known = events.filter((e) => e.before);
  if (known.length === 0) return {};
  const before = known.flatMap((e) => e.before!);
  const union = (lists: Removed[]) => ({
    skillIds: [...new Set(lists.flatMap((r) => r.skillIds))],
    nodeIds: [...new Set(lists.flatMap((r) => r.nodeIds))],
  });
  // Links had at one change and removed at another cover every change between (a superset).
  const had = events.some((e) => e.had) ? { had: union(events.flatMap((e) => [e.had, e.removed].filter((r): r is Removed => r !== undefined))) } : {};
  // A PURGED without its details matches any skill and node: the merge must too.
  if (events.some((e) => e.kind === 'PURGED' && !e.removed)) return { before };
  return { before, removed: union(events.flatMap((e) => (e.removed ? [e.removed] : []))), ...had };
}

/**
 * Coalesces a batch's events: per session, UPDATED is dropped when the batch also holds a
 * CREATED, DELETED, RESTORED or PURGED of it (the event's `session` is read after the batch, so
 * it shows the update anyway), and several UPDATEDs become one, at the first one's place; every
 * remaining event of a session carries the states before of all of them, so a session that left
 * a filter within the batch still reaches it. A message announced twice is kept once. Other
 * events keep their order.
 */
export function coalesce(events: LiveEvent[]): LiveEvent[] {
  const significant = new Set<string>();
  const bySession = new Map<string, SessionEvent[]>();
  for (const event of events) {
    if (event.type !== 'session') continue;
    if (event.kind !== 'UPDATED') significant.add(event.sessionId);
    const list = bySession.get(event.sessionId);
    if (list) list.push(event);
    else bySession.set(event.sessionId, [event]);
  }
  const merged = new Map([...bySession].map(([id, list]) => [id, list.length > 1 ? mergeBefore(list) : undefined]));
  const updated = new Set<string>();
  const seenMessages = new Set<string>();
  const out: LiveEvent[] = [];
  for (const event of events) {
    if (event.type === 'session') {
      if (event.kind === 'UPDATED') {
        if (significant.has(event.sessionId) || updated.has(event.sessionId)) continue;
        updated.add(event.sessionId);
      }
      const union = merged.get(event.sessionId);
      out.push(union ? { ...event, before: union.before, removed: union.removed, had: union.had } : event);
      continue;
    }
    if (event.type === 'message' || event.type === 'messageDeleted') {
      const key = `${event.type}:${event.messageId}`;
      if (seenMessages.has(key)) continue;
      seenMessages.add(key);
    }
    out.push(event);
  }
  return out;
}
