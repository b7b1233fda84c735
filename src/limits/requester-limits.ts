/**
 * One accounting of what a requester may hold (issue #21): per viewer and per address, checked
 * *before* the resource is taken, every refusal in one coded shape and counted in one metric.
 *
 * API (one `RequesterLimits` per server, built in server.ts and handed to the transports):
 *
 *   const limits = new RequesterLimits({ shared: postgresWindows(dataSource), onRefusal });
 *
 *   // Held resources (connections, subscriptions, replays in flight, pending upload bytes):
 *   // counted per key in this process, `amount` at a time; the release is idempotent.
 *   const release = limits.hold({ variable: 'HUB_LIVE_MAX_CONNECTIONS_PER_VIEWER', max: 20, what: 'live connections' },
 *                               viewerKey(viewer.id));          // throws LimitExceeded when it would pass max
 *   socket.once('close', release);
 *
 *   // Rates (new documents per minute): a fixed window per key, across processes when the limits
 *   // were built with `shared` (PostgreSQL), else per process; `amount` charges more than one.
 *   await limits.charge({ variable: 'HUB_MAX_NEW_DOCUMENTS_PER_MINUTE', perMinute: 120, what: 'new documents',
 *                         reason: 'NEW_DOCUMENT_RATE' }, viewerKey(viewer.id), { amount: 1 });
 *
 *   // Work that waits its turn (heavy requests, live replays): at most `max` per key run at once in
 *   // this process, the others wait in line (turns.ts); refused when the line stood still for waitMs.
 *   const end = await limits.turn({ variable: 'HUB_MAX_HEAVY_REQUESTS_PER_VIEWER', max: 1, waitMs: 10_000,
 *                                   what: 'heavy requests', reason: 'HEAVY_REQUESTS' }, viewerKey(viewer.id));
 *   try { await work(); } finally { end(); }   // end(false): the turn ended without doing its work
 *
 * A refusal is a `LimitExceeded` (limit = the env variable that sets the bound, a message that
 * says what to do, seconds to wait when waiting helps). Render it with `limitRefusal()` for
 * GraphQL (BAD_USER_INPUT, HTTP 429, `retry-after`, `extensions.limit`, `extensions.reason`,
 * the promised `validation` list) or `limitRefusalBody()` for a plain route; a WebSocket closes
 * with 4429 and the message. Every refusal increments `hub_limit_refusals_total{limit}`.
 */
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../errors';
import { FixedWindows } from './fixed-windows';
import { SharedWindows, WindowCharge } from './shared-windows';
import { Turns } from './turns';

/** Who holds a resource: `viewer:<user id>` or `address:<client address>`. */
export type RequesterKey = string;

export const viewerKey = (viewerId: string): RequesterKey => `viewer:${viewerId}`;

/** The client's address as the socket saw it (IPv4-mapped IPv6 as plain IPv4). */
export const addressKey = (address: string | undefined): RequesterKey => `address:${(address ?? 'unknown').replace(/^::ffff:/, '')}`;

/** A bound on what one key may hold at once. */
export interface HoldLimit {
  /** The environment variable that sets `max` (named in the refusal). */
  variable: string;
  max: number;
  /** What is counted, for the message: "live connections", "bytes of pending uploads". */
  what: string;
  /** `extensions.reason` of the refusal (default LIMIT). */
  reason?: string;
}

/** A bound on what one key may do per minute. */
export interface RateLimit {
  variable: string;
  perMinute: number;
  what: string;
  reason?: string;
  /** What the requester can do instead of waiting, for the message ("reuse documents"). */
  advice?: string;
}

/** A bound on how many of one kind of work one key runs at once; the others wait their turn. */
export interface TurnLimit {
  variable: string;
  max: number;
  /** A waiter is refused when no turn of its key ended for this long (the line stood still). */
  waitMs: number;
  /** What runs, for the message: "heavy requests". */
  what: string;
  reason?: string;
}

/** A requester is over one of its limits; nothing was taken. */
export class LimitExceeded extends Error {
  constructor(
    readonly limit: string,
    message: string,
    readonly reason = 'LIMIT',
    /** Seconds after which trying again can succeed; undefined when only releasing something helps. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'LimitExceeded';
  }
}

/** Gives back what `hold` took; calling it again does nothing. */
export type Release = () => void;

/**
 * Ends a turn (`turn`); calling it again does nothing. `worked: false` when the turn ended without
 * doing its work (a live replay whose reader stalled): the next in line runs, but the line does
 * not count as moving, so the others' wait is not restarted (turns.ts).
 */
export type TurnEnd = (worked?: boolean) => void;

const WINDOW_MS = 60_000;

export interface RequesterLimitsOptions {
  /** Where per-minute windows are shared by every process; unset: this process only. */
  shared?: SharedWindows;
  /** Called with the limit's variable on every refusal (the metric). */
  onRefusal?: (limit: string) => void;
  /** A shared window could not be reached: the process's own window decided alone. */
  onProblem?: (message: string, error: unknown) => void;
}

export class RequesterLimits {
  private readonly heldByLimit = new Map<string, Map<RequesterKey, number>>();
  private readonly windowsByLimit = new Map<string, FixedWindows>();
  private readonly turnsByLimit = new Map<string, Turns>();
  /** Shared charges in flight per limit and key: a charge decided alone meanwhile counts them as taken. */
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly options: RequesterLimitsOptions = {}) {}

  /**
   * Takes `amount` of `limit` for `key`, or throws LimitExceeded without taking anything when the
   * key would then hold more than `max`. Returns the release (idempotent).
   */
  hold(limit: HoldLimit, key: RequesterKey, amount = 1): Release {
    let held = this.heldByLimit.get(limit.variable);
    if (!held) this.heldByLimit.set(limit.variable, (held = new Map()));
    const current = held.get(key) ?? 0;
    if (current + amount > limit.max) {
      throw this.refuse(new LimitExceeded(limit.variable, `At most ${limit.max} ${limit.what} per requester (${limit.variable}); ${current} held: release some first`, limit.reason));
    }
    held.set(key, current + amount);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (held.get(key) ?? 0) - amount;
      if (left > 0) held.set(key, left);
      else held.delete(key);
    };
  }

  /**
   * For a count kept elsewhere (in the database, so it holds across processes): throws
   * LimitExceeded, counted like every refusal, when `held + amount` would pass `max`.
   */
  check(limit: HoldLimit, held: number, amount: number): void {
    if (held + amount > limit.max) {
      throw this.refuse(new LimitExceeded(limit.variable, `At most ${limit.max} ${limit.what} per requester (${limit.variable}); ${held} held: release some first`, limit.reason));
    }
  }

  /**
   * Waits until `key` may run one more of `limit` in this process (at most `max` at once, in
   * arrival order), and returns the end of that turn (idempotent): call it once the work is done,
   * on every path. Throws LimitExceeded when no turn of `key` ended for `waitMs` meanwhile.
   */
  async turn(limit: TurnLimit, key: RequesterKey): Promise<TurnEnd> {
    let turns = this.turnsByLimit.get(limit.variable);
    if (!turns) this.turnsByLimit.set(limit.variable, (turns = new Turns(limit.max)));
    const end = await turns.take(key, limit.waitMs);
    if (!end) {
      const seconds = Math.max(1, Math.ceil(limit.waitMs / 1000));
      throw this.refuse(
        new LimitExceeded(
          limit.variable,
          `At most ${limit.max} ${limit.what} per requester run at once (${limit.variable}); the others wait their turn, and none of yours ended in ${seconds} s: retry in ${seconds} s`,
          limit.reason,
          seconds,
        ),
      );
    }
    return (worked) => end(worked);
  }

  /** What `key` holds of `limit` now (in this process). */
  held(variable: string, key: RequesterKey): number {
    return this.heldByLimit.get(variable)?.get(key) ?? 0;
  }

  /**
   * Charges `amount` (default 1, at most perMinute) to `key`'s current minute of `limit`, or
   * throws LimitExceeded (with the seconds until the window ends) when it does not fit: this
   * process's window first (no round trip for a requester already over), then the shared one, so
   * N processes do not give N budgets.
   */
  async charge(limit: RateLimit, key: RequesterKey, options: { amount?: number; now?: number } = {}): Promise<void> {
    const now = options.now ?? Date.now();
    const amount = Math.min(limit.perMinute, Math.max(1, Math.floor(options.amount ?? 1)));
    let local = this.windowsByLimit.get(limit.variable);
    if (!local) this.windowsByLimit.set(limit.variable, (local = new FixedWindows(limit.perMinute, WINDOW_MS)));
    const refused = (seconds: number) =>
      this.refuse(
        new LimitExceeded(
          limit.variable,
          `More than ${limit.perMinute} ${limit.what} in a minute (${limit.variable}): ${limit.advice ? `${limit.advice} or ` : ''}retry in ${seconds} s`,
          limit.reason,
          seconds,
        ),
      );
    const shared = this.options.shared;
    if (!shared) {
      if (!local.charge(key, now, amount)) throw refused(local.retryAfterSeconds(key, now));
      return;
    }
    // The process's copy of the shared window: counts only grow within a window, so when the copy
    // is already full the shared one is too (no round trip for a requester who is over).
    if (local.full(key, now, amount)) throw refused(local.retryAfterSeconds(key, now));
    // Charges this process decided alone (the shared window unreachable) go along with this one, so
    // the shared window counts them; until it does, the copy keeps them (a later answer does not
    // erase them), and a charge decided alone counts the shared charges still in flight: one
    // process never accepts more than the budget in a window, whatever its round trips do.
    const alone = local.unshared(key, now);
    const flight = `${limit.variable}\u0000${key}`;
    this.inFlight.set(flight, (this.inFlight.get(flight) ?? 0) + amount);
    let charge: WindowCharge;
    try {
      charge = await shared.charge(limit.variable, key, limit.perMinute, WINDOW_MS, now, amount + alone);
    } catch (error) {
      this.options.onProblem?.('shared limit window unavailable; this process decided alone', error);
      const others = this.land(flight, amount);
      if (amount + others > limit.perMinute || local.full(key, now, amount + others) || !local.charge(key, now, amount, true)) throw refused(local.retryAfterSeconds(key, now));
      return;
    }
    this.land(flight, amount);
    local.mirror(key, charge.startedAt, charge.count, now, charge.accepted ? alone : 0);
    if (!charge.accepted) throw refused(charge.retryAfterSeconds);
  }

  /** A shared charge of `amount` came back (or failed); returns what is still in flight for the key. */
  private land(flight: string, amount: number): number {
    const left = (this.inFlight.get(flight) ?? 0) - amount;
    if (left > 0) this.inFlight.set(flight, left);
    else this.inFlight.delete(flight);
    return Math.max(0, left);
  }

  private refuse(error: LimitExceeded): LimitExceeded {
    this.options.onRefusal?.(error.limit);
    return error;
  }
}

/** A limit refusal as a GraphQL error: BAD_USER_INPUT, HTTP 429, `retry-after` when waiting helps. */
export function limitRefusal(error: LimitExceeded, field = 'request'): GraphQLError {
  const headers = error.retryAfterSeconds !== undefined ? new Map([['retry-after', String(error.retryAfterSeconds)]]) : undefined;
  return new GraphQLError(error.message, {
    extensions: {
      code: ErrorCode.BAD_USER_INPUT,
      reason: error.reason,
      limit: error.limit,
      validation: [{ field, message: error.message }],
      http: { status: 429, ...(headers ? { headers } : {}) },
    },
  });
}

/** A limit refusal for a plain HTTP route: status, headers and the API's JSON error body. */
export function limitRefusalBody(error: LimitExceeded, field = 'request') {
  return {
    status: 429,
    headers: error.retryAfterSeconds !== undefined ? { 'retry-after': String(error.retryAfterSeconds) } : {},
    body: {
      errors: [
        {
          message: error.message,
          extensions: { code: ErrorCode.BAD_USER_INPUT, reason: error.reason, limit: error.limit, validation: [{ field, message: error.message }] },
        },
      ],
    },
  };
}
