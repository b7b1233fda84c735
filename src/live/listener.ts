import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { LIVE_CHANNEL, LiveEvent, parseNotification, DetailAssembler } from './notifications';

/** Probe payloads (see `verify`) start so; parseNotification finds no events in them, so other
 * processes' listeners (and older versions) ignore them. */
const PROBE_PREFIX = 'hub-probe:';

export interface ListenerOptions {
  connectionString: string;
  onEvents(events: LiveEvent[]): void;
  /** The connection was lost and is back: notifications in between are gone (NOTIFY is not
   * queued for a session that is not listening), so subscribers must recover. */
  onGap(): void;
  onStateChange?(state: 'connected' | 'lost', error?: unknown): void;
  /** Longest wait between reconnection attempts (the wait doubles from 100 ms up to this). */
  maxBackoffMs?: number;
  /** How often the idle connection is checked with a round trip, to notice a half-open socket. */
  pingIntervalMs?: number;
}

/**
 * One dedicated PostgreSQL connection per process running `LISTEN hub_live`. Never a pooled
 * connection: a pool recycles idle clients, and LISTEN dies silently with them. After a loss it
 * reconnects with exponential backoff and reports the gap. Its application_name,
 * `hub-live-listener:<pid>`, tells operators (and the recovery test) whose connection it is.
 */
export class LiveListener {
  private client?: Client;
  private connecting?: Promise<void>;
  private stopped = false;
  private everConnected = false;
  private backoffMs = 100;
  private retryTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private readyWaiters: { resolve(): void; reject(error: unknown): void }[] = [];
  private readonly probes = new Map<string, () => void>();
  private probing?: Promise<void>;
  private lastProbeAt = 0;
  /** The backend pid of the current connection (tests terminate it). */
  backendPid?: number;

  constructor(private readonly options: ListenerOptions) {}

  get connected(): boolean {
    return this.client !== undefined && this.connecting === undefined;
  }

  /** Connects (once); resolves when LISTEN is active, rejects if the first attempt fails. */
  start(): Promise<void> {
    if (this.connected) return Promise.resolve();
    const waiter = new Promise<void>((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
    if (!this.connecting && !this.retryTimer) void this.connect();
    return waiter;
  }

  private connect(): Promise<void> {
    this.retryTimer = undefined;
    const attempt = (async () => {
      const client = new Client({ connectionString: this.options.connectionString, keepAlive: true, application_name: `hub-live-listener:${process.pid}` });
      const details = new DetailAssembler();
      client.on('notification', (message) => {
        if (message.channel !== LIVE_CHANNEL) return;
        if (message.payload?.startsWith(PROBE_PREFIX)) return this.probes.get(message.payload)?.();
        const events = details.accept(parseNotification(message.payload));
        if (events.length) this.options.onEvents(events);
      });
      client.on('error', (error) => this.lost(client, error));
      client.on('end', () => this.lost(client, new Error('the LISTEN connection ended')));
      try {
        await client.connect();
        await client.query(`LISTEN ${LIVE_CHANNEL}`);
        const [row] = (await client.query('SELECT pg_backend_pid() AS pid')).rows;
        this.backendPid = row.pid;
      } catch (error) {
        client.removeAllListeners('end');
        client.on('error', () => undefined);
        await client.end().catch(() => undefined);
        throw error;
      }
      if (this.stopped) {
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
      this.backoffMs = 100;
      let pinging = false;
      this.pingTimer = setInterval(() => {
        if (pinging) return;
        pinging = true;
        client
          .query('SELECT 1')
          .catch((error) => this.lost(client, error))
          .finally(() => (pinging = false));
      }, this.options.pingIntervalMs ?? 15_000);
      this.pingTimer.unref();
    })();
    this.connecting = attempt.then(
      () => {
        this.connecting = undefined;
        const wasGap = this.everConnected;
        this.everConnected = true;
        this.options.onStateChange?.('connected');
        this.readyWaiters.splice(0).forEach((w) => w.resolve());
        if (wasGap) this.options.onGap();
      },
      (error) => {
        this.connecting = undefined;
        this.options.onStateChange?.('lost', error);
        // The first subscriber waits for a working LISTEN: tell it now rather than hang.
        this.readyWaiters.splice(0).forEach((w) => w.reject(error));
        if (this.everConnected) this.scheduleRetry();
      },
    );
    return this.connecting;
  }

  private lost(client: Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.backendPid = undefined;
    clearInterval(this.pingTimer);
    client.removeAllListeners('notification');
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (this.stopped) return;
    this.options.onStateChange?.('lost', error);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer || this.connecting) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 5000);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  /**
   * Proves that notifications reach this connection: `send` publishes a probe on the channel
   * the way writes do (through the pool), and it must arrive here within `timeoutMs`. A LISTEN
   * that went through a transaction-mode pooler succeeds and then receives nothing; this is how
   * that becomes visible (/readyz). A probe that arrived within `maxAgeMs` is reused, and
   * concurrent callers share one probe.
   */
  verify(send: (channel: string, payload: string) => Promise<unknown>, options: { timeoutMs: number; maxAgeMs: number }): Promise<void> {
    if (Date.now() - this.lastProbeAt < options.maxAgeMs && this.connected) return Promise.resolve();
    this.probing ??= (async () => {
      const payload = `${PROBE_PREFIX}${process.pid}:${randomUUID()}`;
      let timer: NodeJS.Timeout | undefined;
      let listening = false;
      const arrived = new Promise<void>((resolve, reject) => {
        this.probes.set(payload, resolve);
        timer = setTimeout(
          () =>
            reject(
              new Error(
                listening
                  ? `no probe notification arrived within ${options.timeoutMs} ms (a LISTEN through a transaction-mode pooler receives nothing: set HUB_DIRECT_DATABASE_URL)`
                  : `LISTEN did not become active within ${options.timeoutMs} ms`,
              ),
            ),
          options.timeoutMs,
        );
      });
      try {
        await Promise.race([this.start(), arrived]);
        listening = true;
        await Promise.race([send(LIVE_CHANNEL, payload), arrived]);
        await arrived;
        this.lastProbeAt = Date.now();
      } finally {
        clearTimeout(timer);
        this.probes.delete(payload);
      }
    })().finally(() => (this.probing = undefined));
    return this.probing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
    this.readyWaiters.splice(0).forEach((w) => w.reject(new Error('the live listener stopped')));
  }
}
