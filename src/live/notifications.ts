/**
 * What the `hub_live` NOTIFY payloads announce (see the LiveNotifyTriggers and LivePurgeDetails
 * migrations): ids only,
 * parsed into events. Unknown or malformed entries are dropped, never thrown: a payload written
 * by a newer server version must not stop an older one's listener.
 */

export const LIVE_CHANNEL = 'hub_live';

export type SessionChangeKind = 'CREATED' | 'UPDATED' | 'DELETED' | 'RESTORED' | 'PURGED';

const KINDS: Record<string, SessionChangeKind> = { C: 'CREATED', U: 'UPDATED', D: 'DELETED', R: 'RESTORED', P: 'PURGED' };

export interface SessionEvent {
  type: 'session';
  kind: SessionChangeKind;
  sessionId: string;
  ownerId: string;
  /** For PURGED: the state the session had, so a purge reaches only filters it matched. */
  wasDeleted: boolean;
  wasSyncing: boolean;
  /** For PURGED: the skills and nodes it had (undefined: not announced, by a database without
   * the LivePurgeDetails migration). */
  had?: { skillIds: string[]; nodeIds: string[] };
  at: Date;
}

/** What a purged session had, announced just before its PURGED entry (see PurgeAssembler). */
export interface PurgeDetail {
  type: 'purgeDetail';
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

export type LiveEvent = SessionEvent | MessageEvent | MessagesBulkEvent | UserDeletedEvent;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isId = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

/** The events of one NOTIFY payload, in the order the trigger wrote them. */
export function parseNotification(payload: string | undefined): (LiveEvent | PurgeDetail)[] {
  let parsed: { at?: unknown; e?: unknown };
  try {
    parsed = JSON.parse(payload ?? '');
  } catch {
    return [];
  }
  if (!parsed || !Array.isArray(parsed.e)) return [];
  const at = typeof parsed.at === 'string' && !Number.isNaN(Date.parse(parsed.at)) ? new Date(parsed.at) : new Date();
  const events: (LiveEvent | PurgeDetail)[] = [];
  for (const entry of parsed.e as unknown[]) {
    if (!Array.isArray(entry)) continue;
    const [tag, a, b, c, d, e, f] = entry;
    if (tag === 'S' && typeof a === 'string' && KINDS[a] && isId(b) && isId(c)) {
      const event: SessionEvent = { type: 'session', kind: KINDS[a], sessionId: b, ownerId: c, wasDeleted: d === 1, wasSyncing: e === 1, at };
      if (KINDS[a] === 'PURGED' && f === 1) event.had = { skillIds: [], nodeIds: [] };
      events.push(event);
    } else if (tag === 'K' && isId(a) && isId(b)) {
      events.push({ type: 'purgeDetail', sessionId: a, skillId: b.toLowerCase() });
    } else if (tag === 'N' && isId(a) && typeof b === 'string') {
      events.push({ type: 'purgeDetail', sessionId: a, nodeId: b });
    } else if (tag === 'M' && isId(a) && isId(b) && isId(c)) {
      events.push({ type: 'message', messageId: a, sessionId: b, ownerId: c, at });
    } else if (tag === 'B' && isId(a) && isId(b)) {
      events.push({ type: 'messagesBulk', sessionId: a, ownerId: b, at });
    } else if (tag === 'X' && isId(a)) {
      events.push({ type: 'userDeleted', userId: a, at });
    }
  }
  return events;
}

/**
 * Joins a purge's details to its PURGED event. The trigger writes a purged session's K/N entries
 * right before its P entry, in one transaction, whose notifications arrive together and in order;
 * a long list may span several payloads, so one assembler follows one LISTEN connection (a new
 * connection starts a new one: what a lost connection cut off is a gap anyway).
 */
export class PurgeAssembler {
  private details = new Map<string, { skillIds: Set<string>; nodeIds: Set<string> }>();

  /** The payload's events, PURGED ones with what the session had; details are held until then. */
  accept(events: (LiveEvent | PurgeDetail)[]): LiveEvent[] {
    const out: LiveEvent[] = [];
    for (const event of events) {
      if (event.type === 'purgeDetail') {
        let had = this.details.get(event.sessionId);
        if (!had) this.details.set(event.sessionId, (had = { skillIds: new Set(), nodeIds: new Set() }));
        if (event.skillId) had.skillIds.add(event.skillId);
        if (event.nodeId !== undefined) had.nodeIds.add(event.nodeId);
        continue;
      }
      if (event.type === 'session' && event.kind === 'PURGED') {
        const had = this.details.get(event.sessionId);
        this.details.delete(event.sessionId);
        if (event.had && had) event.had = { skillIds: [...had.skillIds], nodeIds: [...had.nodeIds] };
      }
      out.push(event);
    }
    return out;
  }
}

/**
 * Coalesces a batch's session events: per session, UPDATED is dropped when the batch also holds
 * a CREATED, DELETED, RESTORED or PURGED of it (the event's `session` is read after the batch, so
 * it shows the update anyway), and several UPDATEDs become one, at the first one's place. Other
 * events keep their order.
 */
export function coalesce(events: LiveEvent[]): LiveEvent[] {
  const significant = new Set<string>();
  for (const event of events) {
    if (event.type === 'session' && event.kind !== 'UPDATED') significant.add(event.sessionId);
  }
  const updated = new Set<string>();
  const seenMessages = new Set<string>();
  const out: LiveEvent[] = [];
  for (const event of events) {
    if (event.type === 'session' && event.kind === 'UPDATED') {
      if (significant.has(event.sessionId) || updated.has(event.sessionId)) continue;
      updated.add(event.sessionId);
    }
    if (event.type === 'message') {
      if (seenMessages.has(event.messageId)) continue;
      seenMessages.add(event.messageId);
    }
    out.push(event);
  }
  return out;
}
