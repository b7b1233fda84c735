/**
 * What the `hub_live` NOTIFY payloads announce (see the LiveNotifyTriggers migration): ids only,
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
  at: Date;
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
export function parseNotification(payload: string | undefined): LiveEvent[] {
  let parsed: { at?: unknown; e?: unknown };
  try {
    parsed = JSON.parse(payload ?? '');
  } catch {
    return [];
  }
  if (!parsed || !Array.isArray(parsed.e)) return [];
  const at = typeof parsed.at === 'string' && !Number.isNaN(Date.parse(parsed.at)) ? new Date(parsed.at) : new Date();
  const events: LiveEvent[] = [];
  for (const entry of parsed.e as unknown[]) {
    if (!Array.isArray(entry)) continue;
    const [tag, a, b, c, d, e] = entry;
    if (tag === 'S' && typeof a === 'string' && KINDS[a] && isId(b) && isId(c)) {
      events.push({ type: 'session', kind: KINDS[a], sessionId: b, ownerId: c, wasDeleted: d === 1, wasSyncing: e === 1, at });
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
