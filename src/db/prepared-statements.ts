import { createHash } from 'node:crypto';
import { Client, ClientConfig } from 'pg';
import { BoundedMap } from '../common/bounded-map';

/** Named statements kept per connection (PostGraphile keeps 100 too), least recently used out first. */
const STATEMENTS_PER_CONNECTION = 100;

/** Statements PostgreSQL can prepare; utility statements (BEGIN, SET, DDL, LISTEN) run as they are. */
const PREPARABLE = /^\s*(SELECT|WITH|INSERT|UPDATE|DELETE)\b/i;

/** SQLSTATEs after which a named statement is gone or unusable on the server: it is forgotten. */
const STALE_STATEMENT = new Set(['26000', '0A000']); // invalid statement name; cached plan changed result type

/**
 * A pg client that runs every parameterized DML statement as a named prepared statement, named
 * by the hash of its text. PostgreSQL then parses and analyzes each distinct text once per
 * connection and, after a few executions, keeps a generic plan: the dashboard's page statement
 * spent more time in the planner than in the executor. Our statements bind every value as a
 * parameter (limits are validated integer literals, see `SqlParams.limit`), so the texts are the
 * shapes of the operations, not their values; still, a connection keeps at most
 * `STATEMENTS_PER_CONNECTION` of them and deallocates the least recently used once it is idle
 * (never inside a transaction, so a failed DEALLOCATE cannot abort anyone's work).
 *
 * The pool creates its connections with this class (`extra.Client` in src/db/data-source.ts), so
 * TypeORM, every loader and every write use it without knowing; statement counting is unchanged.
 * With `preparedStatements: false` in its config (`HUB_PREPARED_STATEMENTS=false`) it runs every
 * statement unnamed.
 *
 * A connection the server ends between two queries (a restart, a stopped standby) emits `error`
 * while no query is there to receive it; pg-pool listens only while the client is idle in the
 * pool, so a client held by TypeORM between its query and its release had no listener and the
 * error crashed the process (seen once in the replica failover test). The client is not queryable
 * any more: its next query fails and the pool drops it when it is released.
 */
export class PreparingClient extends Client {
  private readonly prepares: boolean;
  private readonly recent = new BoundedMap<string, true>(STATEMENTS_PER_CONNECTION);
  private readonly evicted = new Set<string>();
  /** Names whose server-side statement is stale on this connection: their texts run unnamed here. */
  private readonly stale = new Set<string>();

  constructor(config?: string | (ClientConfig & { preparedStatements?: boolean })) {
    super(config);
    this.prepares = typeof config !== 'object' || config.preparedStatements !== false;
    this.on('error', () => undefined);
    this.on('drain', () => this.deallocateEvicted());
  }

  // pg's `query` has a dozen overloads; only (text, values) without a callback — TypeORM's call — is named.
  override query(...args: any[]): any {
    const [text, values, callback] = args;
    if (!this.prepares || typeof text !== 'string' || callback !== undefined || !(values === undefined || Array.isArray(values)) || !PREPARABLE.test(text)) {
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    const name = `hub_${createHash('sha1').update(text).digest('hex')}`;
    if (this.stale.has(name)) return super.query(text, values);
    this.use(name);
    return (super.query({ name, text, values: values ?? [] }) as Promise<unknown>).catch((error: { code?: string }) => {
      if (error?.code && STALE_STATEMENT.has(error.code)) this.forget(name);
      throw error;
    });
  }

  private use(name: string): void {
    this.evicted.delete(name);
    for (const oldest of this.recent.set(name, true)) this.evicted.add(oldest);
  }

  /** A statement the server no longer has, or whose plan changed shape (DDL): deallocated, then run unnamed. */
  private forget(name: string): void {
    this.recent.delete(name);
    this.evicted.add(name);
    if (this.stale.size < STATEMENTS_PER_CONNECTION) this.stale.add(name);
  }

  private get parsed(): Record<string, string> {
    return (this as unknown as { connection: { parsedStatements: Record<string, string> } }).connection.parsedStatements;
  }

  private deallocateEvicted(): void {
    if (this.evicted.size === 0 || this.getTransactionStatus() !== 'I') return;
    const names = [...this.evicted];
    this.evicted.clear();
    for (const name of names) {
      if (this.parsed[name] === undefined) continue;
      // Forgotten now: a later use of the text queues its Parse after this DEALLOCATE.
      delete this.parsed[name];
      // The name is our own (hub_<hex>); DEALLOCATE takes no parameters. It fails only when the
      // server has no such statement any more, which is what it was for.
      super.query(`DEALLOCATE ${name}`).catch(() => undefined);
    }
  }
}
