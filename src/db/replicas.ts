import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../errors.format';
import { Logger } from '../logger';
import { dataModelOf, modelDataSourceOptions } from './data-source';

/**
 * Read replicas with read-your-writes (docs/SCALING.md).
 *
 * Queries read from a PostgreSQL streaming replica; mutations, everything inside them and their
 * payloads read the primary (the request's route, see ReadRoute). After a viewer's mutation its
 * WAL position (`pg_current_wal_lsn()` after the commit) is kept in `hub_write_positions` on the
 * primary and sent to the client as `x-hub-lsn`; a later read by that viewer, on any process,
 * or by any client echoing the header, goes to a replica only once the replica has replayed that
 * position (`pg_last_wal_replay_lsn()`), waiting at most `HUB_REPLICA_WAIT_MS`, else to the
 * primary. A background check takes replicas that are down, not standbys, or more than
 * `HUB_REPLICA_MAX_LAG_MS` behind out of rotation; a read that fails on a replica is retried on
 * the primary, so clients never see a replica's failure.
 */

export type ReplicaHealth = 'starting' | 'up' | 'lagging' | 'down';

export interface ReplicaStatus {
  name: string;
  state: ReplicaHealth;
  /** How long ago the primary had written what the replica has not replayed yet (0: caught up). */
  lagMs: number | null;
  replayLsn: string | null;
  reason?: string;
}

export interface NamedPool {
  name: string;
  dataSource: DataSource;
}

/** The LSN header clients echo: `x-hub-lsn: 16/B374D848`. */
export const LSN_HEADER = 'x-hub-lsn';
/** Which pool served a request's reads (`primary` or `replica-N`), for operators and tests. */
export const READ_POOL_HEADER = 'x-hub-read-pool';

const LSN_PATTERN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** A WAL position as a number, or undefined for anything that is not one (hostile input included). */
export function parseLsn(text: unknown): bigint | undefined {
  if (typeof text !== 'string') return undefined;
  const match = LSN_PATTERN.exec(text);
  if (!match) return undefined;
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

interface Replica extends NamedPool {
  url: string;
  initialized: boolean;
  state: ReplicaHealth;
  replayLsn: bigint;
  lagMs: number | null;
  reason?: string;
}

export interface ReplicaOptions {
  urls: string[];
  waitMs: number;
  maxLagMs: number;
  logger: Logger;
  poolSize?: number;
  statementTimeoutMs?: number;
  preparedStatements?: boolean;
  /** How often replicas are checked; default a quarter of the lag bound, 50 ms to 1 s. */
  checkIntervalMs?: number;
}

// SQLSTATEs for which a read that failed on a replica is retried on the primary: a recovery
// conflict cancelled it (40001 on a standby), or it tried to write (25006: a query op that writes).
const RETRY_ON_PRIMARY = new Set(['40001', '25006']);

function retryOnPrimary(error: unknown): boolean {
  const code = (error as { code?: unknown; driverError?: { code?: unknown } })?.driverError?.code ?? (error as { code?: unknown })?.code;
  return isDatabaseUnavailable(error) || (typeof code === 'string' && RETRY_ON_PRIMARY.has(code));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The replica pools of one server process and their health. */
export class ReadReplicas {
  private readonly replicas: Replica[];
  /** Recent primary WAL positions with when they were seen: a replica's lag is the age of the
   * oldest position it has not replayed yet. */
  private samples: { at: number; lsn: bigint }[] = [];
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private next = 0;
  private readonly interval: number;

  constructor(
    readonly primary: DataSource,
    private readonly options: ReplicaOptions,
  ) {
    this.interval = options.checkIntervalMs ?? Math.min(1000, Math.max(50, Math.floor(options.maxLagMs / 4)));
    this.replicas = options.urls.map((url, i) => ({
      name: `replica-${i}`,
      url,
      // The primary's data model: a replica serves the same entities.
      dataSource: new DataSource(
        modelDataSourceOptions(dataModelOf(primary), {
          url,
          poolSize: options.poolSize,
          statementTimeoutMs: options.statementTimeoutMs,
          preparedStatements: options.preparedStatements,
          applicationName: 'hub-session-graph-replica',
          onProblem: (message) => options.logger.warn({ replica: `replica-${i}` }, message),
        }),
      ),
      initialized: false,
      state: 'starting',
      replayLsn: 0n,
      lagMs: null,
    }));
  }

  /** Connects to every replica (one that is down is retried by the health check) and starts it. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.interval);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
    await Promise.all(this.replicas.map((r) => (r.dataSource.isInitialized ? r.dataSource.destroy().catch(() => undefined) : undefined)));
  }

  pools(): NamedPool[] {
    return this.replicas.filter((r) => r.dataSource.isInitialized).map(({ name, dataSource }) => ({ name, dataSource }));
  }

  status(): ReplicaStatus[] {
    return this.replicas.map((r) => ({
      name: r.name,
      state: r.state,
      lagMs: r.lagMs,
      replayLsn: r.initialized && r.replayLsn > 0n ? formatLsn(r.replayLsn) : null,
      ...(r.reason ? { reason: r.reason } : {}),
    }));
  }

  /** One health check of the primary's position and every replica; overlapping calls share one. */
  check(): Promise<void> {
    this.checking ??= this.runCheck().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async runCheck(): Promise<void> {
    const budget = Math.max(1000, this.interval);
    try {
      const [row] = await withTimeout(this.primary.query(`SELECT pg_current_wal_lsn()::text AS lsn`), budget, 'the primary position');
      const now = Date.now();
      this.samples.push({ at: now, lsn: parseLsn(row.lsn)! });
      const keep = now - Math.max(10 * this.options.maxLagMs, 10_000);
      while (this.samples.length > 2 && this.samples[0].at < keep) this.samples.shift();
      if (this.samples.length > 2000) this.samples.splice(0, this.samples.length - 2000);
    } catch {
      // The primary is down: replicas keep their last state; reads fail on the primary anyway.
    }
    await Promise.all(this.replicas.map((replica) => this.checkReplica(replica, budget)));
  }

  private async checkReplica(replica: Replica, budget: number): Promise<void> {
    try {
      if (!replica.dataSource.isInitialized) {
        await withTimeout(replica.dataSource.initialize(), budget * 5, 'connecting');
        replica.initialized = true;
      }
      const [row] = await withTimeout(
        replica.dataSource.query(`SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS lsn`),
        budget,
        'the replay position',
      );
      if (!row.standby) return this.setState(replica, 'down', null, 'not a standby (promoted, or the primary itself)');
      this.observe(replica, parseLsn(row.lsn) ?? 0n);
      const lag = this.lagOf(replica.replayLsn);
      if (lag > this.options.maxLagMs) this.setState(replica, 'lagging', lag, `${lag} ms behind (HUB_REPLICA_MAX_LAG_MS ${this.options.maxLagMs})`);
      else this.setState(replica, 'up', lag);
    } catch (error) {
      this.setState(replica, 'down', null, (error as Error).message);
    }
  }

  private observe(replica: Replica, lsn: bigint): void {
    if (lsn > replica.replayLsn) replica.replayLsn = lsn;
  }

  private lagOf(replayed: bigint): number {
    const latest = this.samples[this.samples.length - 1];
    if (!latest || replayed >= latest.lsn) return 0;
    const oldestUnreplayed = this.samples.find((s) => s.lsn > replayed)!;
    return Date.now() - oldestUnreplayed.at;
  }

  private setState(replica: Replica, state: ReplicaHealth, lagMs: number | null, reason?: string): void {
    if (state !== replica.state) {
      const log = state === 'up' ? this.options.logger.info.bind(this.options.logger) : this.options.logger.warn.bind(this.options.logger);
      log({ replica: replica.name, state, lagMs, reason }, state === 'up' ? 'read replica in rotation' : 'read replica out of rotation');
    }
    replica.state = state;
    replica.lagMs = lagMs;
    replica.reason = reason;
  }

  /** A read failed on this replica: out of rotation until the health check finds it well again. */
  markDown(name: string, error: unknown): void {
    const replica = this.replicas.find((r) => r.name === name);
    if (replica) this.setState(replica, 'down', null, `a read failed: ${(error as Error)?.message ?? error}`);
  }

  /**
   * A client's `x-hub-lsn` as far as it can be true: never beyond the primary's current position.
   * The primary is asked only when the value is beyond the newest position the health check saw
   * (a write of the last moment, or a made-up value such as FFFFFFFF/FFFFFFFF, which would
   * otherwise make every read wait HUB_REPLICA_WAIT_MS and poll the standby).
   */
  async clampToPrimary(lsn: bigint): Promise<bigint> {
    if (lsn === 0n || lsn <= (this.samples.at(-1)?.lsn ?? 0n)) return lsn;
    const [row] = await this.primary.query(`SELECT pg_current_wal_lsn()::text AS lsn`);
    const current = parseLsn(row?.lsn) ?? 0n;
    return lsn < current ? lsn : current;
  }

  /** The WAL position of the viewer's last write (0 when none is known), read on the primary. */
  async writePosition(viewerId: string): Promise<bigint> {
    const [row] = await this.primary.query(`SELECT lsn::text AS lsn FROM hub_write_positions WHERE user_id = $1`, [viewerId]);
    return parseLsn(row?.lsn) ?? 0n;
  }

  /** After a viewer's mutation committed: remembers the primary's WAL position for that viewer
   * and returns it (the `x-hub-lsn` the client gets). */
  async recordWrite(viewerId: string): Promise<string> {
    const [row] = await this.primary.query(
      `INSERT INTO hub_write_positions (user_id, lsn) VALUES ($1, pg_current_wal_lsn())
       ON CONFLICT (user_id) DO UPDATE SET lsn = GREATEST(hub_write_positions.lsn, EXCLUDED.lsn), updated_at = now()
       RETURNING lsn::text AS lsn`,
      [viewerId],
    );
    return row.lsn;
  }

  /**
   * The pool a query's reads use: a replica in rotation that has replayed `needed` (waiting up
   * to HUB_REPLICA_WAIT_MS for one to get there), else the primary.
   */
  async choose(needed: bigint): Promise<NamedPool> {
    const ready = this.replicas.filter((r) => r.state === 'up');
    if (ready.length === 0) return { name: 'primary', dataSource: this.primary };
    const start = this.next++ % ready.length;
    const ordered = [...ready.slice(start), ...ready.slice(0, start)];
    const caughtUp = ordered.find((r) => r.replayLsn >= needed);
    if (caughtUp) return caughtUp;
    const candidate = ordered[0];
    if (await this.waitForReplay(candidate, needed)) return candidate;
    return { name: 'primary', dataSource: this.primary };
  }

  private async waitForReplay(replica: Replica, needed: bigint): Promise<boolean> {
    const deadline = Date.now() + this.options.waitMs;
    for (let pause = 1; ; pause = Math.min(pause * 2, 25)) {
      try {
        const [row] = await replica.dataSource.query(`SELECT pg_last_wal_replay_lsn()::text AS lsn`);
        this.observe(replica, parseLsn(row?.lsn) ?? 0n);
      } catch (error) {
        this.markDown(replica.name, error);
        return false;
      }
      if (replica.replayLsn >= needed) return true;
      if (Date.now() + pause > deadline) return false;
      await sleep(pause);
    }
  }
}

/**
 * One request's read route. Decided once the operation is known (an Apollo plugin calls
 * `decide` before any resolver runs): a query reads from a replica that has replayed the
 * viewer's last write and the client's `x-hub-lsn`; anything else reads the primary.
 */
export class ReadRoute {
  private useReplica = false;
  private chosen?: Promise<NamedPool>;
  /** The pool that served the reads, once one did. */
  served?: string;

  constructor(
    readonly replicas: ReadReplicas,
    readonly viewerId: string,
    readonly clientLsn: bigint,
  ) {}

  decide(operation: 'query' | 'mutation' | 'subscription'): void {
    this.useReplica = operation === 'query';
  }

  pool(): Promise<NamedPool> {
    if (!this.useReplica) return Promise.resolve({ name: 'primary', dataSource: this.replicas.primary });
    this.chosen ??= Promise.all([this.replicas.writePosition(this.viewerId), this.replicas.clampToPrimary(this.clientLsn)]).then(
      ([written, client]) => this.replicas.choose(written > client ? written : client),
    );
    return this.chosen;
  }

  failover(pool: NamedPool, error: unknown): void {
    this.replicas.markDown(pool.name, error);
    this.chosen = Promise.resolve({ name: 'primary', dataSource: this.replicas.primary });
  }
}

/**
 * The DataSource the request's loaders and lists read through: `query()` goes where the route
 * says (a read that fails on a replica is retried on the primary); everything else —
 * transactions, repositories, managers, so every write — is the primary's.
 */
export function readSide(primary: DataSource, route: ReadRoute): DataSource {
  const query = async (sql: string, params?: unknown[]) => {
    const pool = await route.pool();
    route.served ??= pool.name;
    if (pool.dataSource === primary) return primary.query(sql, params);
    try {
      return await pool.dataSource.query(sql, params);
    } catch (error) {
      if (!retryOnPrimary(error)) throw error;
      route.failover(pool, error);
      route.served = 'primary';
      return primary.query(sql, params);
    }
  };
  return new Proxy(primary, {
    get(target, property) {
      if (property === 'query') return query;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
