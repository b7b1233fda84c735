import http from 'node:http';

/** A bound one requester (a viewer, an address) may hold at once: see src/limits/requester-limits.ts. */
export interface HoldLimit {
  variable: string;
  max: number;
  what: string;
  reason?: string;
}

/** Per-requester accounting (the server's RequesterLimits): `hold` throws when `key` is at `max`. */
export interface RequesterHolds {
  hold(limit: HoldLimit, key: string): () => void;
}

export interface ConnectionLimits {
  /** HUB_LIVE_MAX_CONNECTIONS: open connections of this process. */
  maxConnections: number;
  /** HUB_LIVE_MAX_CONNECTIONS_PER_ADDRESS, HUB_LIVE_MAX_CONNECTIONS_PER_VIEWER. */
  maxConnectionsPerAddress: number;
  maxConnectionsPerViewer: number;
  /** HUB_LIVE_CONNECTION_INIT_TIMEOUT_MS: how long a connection may stay unauthenticated. */
  connectionInitTimeoutMs: number;
}

/** Why a connection was not admitted: the transport answers 503 (process full) or 429 (requester). */
export class ConnectionRefused extends Error {
  constructor(
    readonly status: 429 | 503,
    message: string,
    readonly limit: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** One admitted connection: counted until `release()` (idempotent), by address, then by viewer. */
export interface ConnectionSlot {
  /** The connection authenticated as `viewerId`: it now counts per viewer too. Throws
   * ConnectionRefused past the per-viewer cap. */
  authenticated(viewerId: string): void;
  /** The handshake is over (authenticated, and its request read): the handshake timer stops. */
  established(): void;
  release(): void;
}

/** The client's address as the socket saw it (IPv4-mapped IPv6 as plain IPv4). */
export function addressOf(req: http.IncomingMessage): string {
  return (req.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
}

/**
 * The live connection slots of one process, for both transports: the process cap, the cap per
 * client address (before authentication, so anonymous clients are bounded too) and per viewer
 * (once authenticated), and the handshake bound: a connection not established (authenticated, its
 * request read) within `connectionInitTimeoutMs` is handed to `onHandshakeTimeout` (the transport closes it), so a
 * half-sent body or a silent socket cannot keep a slot.
 */
export class LiveConnections {
  private open = 0;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly holds: RequesterHolds,
    private readonly metrics: { inc(labels: { transport: string }): void; dec(labels: { transport: string }): void },
  ) {}

  get count(): number {
    return this.open;
  }

  /** Takes a slot for a connection from `address`, or throws ConnectionRefused. */
  admit(transport: 'ws' | 'sse', address: string, onHandshakeTimeout: () => void): ConnectionSlot {
    const { limits } = this;
    if (this.open >= limits.maxConnections) {
      throw new ConnectionRefused(503, `This server holds its maximum of ${limits.maxConnections} live connections (HUB_LIVE_MAX_CONNECTIONS); try again later`, 'HUB_LIVE_MAX_CONNECTIONS', 5);
    }
    const releaseAddress = this.take({ variable: 'HUB_LIVE_MAX_CONNECTIONS_PER_ADDRESS', max: limits.maxConnectionsPerAddress, what: 'live connections' }, `address:${address}`);
    let releaseViewer: (() => void) | undefined;
    this.open += 1;
    this.metrics.inc({ transport });
    const handshake = setTimeout(onHandshakeTimeout, limits.connectionInitTimeoutMs);
    handshake.unref();
    let released = false;
    return {
      established: () => clearTimeout(handshake),
      authenticated: (viewerId) => {
        if (releaseViewer) return;
        releaseViewer = this.take({ variable: 'HUB_LIVE_MAX_CONNECTIONS_PER_VIEWER', max: limits.maxConnectionsPerViewer, what: 'live connections' }, `viewer:${viewerId}`);
      },
      release: () => {
        if (released) return;
        released = true;
        clearTimeout(handshake);
        releaseAddress();
        releaseViewer?.();
        this.open -= 1;
        this.metrics.dec({ transport });
      },
    };
  }

  private take(limit: HoldLimit, key: string): () => void {
    try {
      return this.holds.hold(limit, key);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new ConnectionRefused(429, message, limit.variable, 5);
    }
  }
}
