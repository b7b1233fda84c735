import { createHash } from 'node:crypto';
import { Client, ClientConfig } from 'pg';
import { BoundedMap } from '../common/bounded-map';
import { parsedStatements } from './typeorm-internals';

/** Named statements kept per connection (PostGraphile keeps 100 too), least recently used out first. */
const STATEMENTS_PER_CONNECTION = 100;

/** Statements PostgreSQL can prepare; utility statements (BEGIN, SET, DDL, LISTEN) run as they are. */
const PREPARABLE = /^\s*(SELECT|WITH|INSERT|UPDATE|DELETE)\b/i;

/**
 * In a statement's text, asks for a plan made for its values on every execution: the statement
 * runs unnamed. For conditions whose selectivity the values decide by orders of magnitude (a
 * full-text match: a common word matches a twelfth of all messages, a rare one twenty), where a
 * generic plan made once for any value picks one path for all: measured at 400k messages, a
 * member's search for a common word took 103 ms of backend CPU under the generic plan against 23
 * ms planned for its values (planning costs about 1 ms).
 */
export const PLAN_FOR_VALUES = '/* planned for its values */';

/** SQLSTATEs after which a named statement is gone or unusable on the server: it is forgotten. */
const STALE_STATEMENT = new Set(['26000', '0A000']); // invalid statement name; cached plan changed result type

/** Statement names by text, for the process: a request's statements are texts seen before (their
 * shapes, not their values), and a Map lookup is cheaper than hashing a 2 kB text per statement. */
const NAMES = new BoundedMap<string, string | null>(500);
/** Longer texts are hashed each time (at most 500 × 16 kB kept). */
const MAX_REMEMBERED_TEXT = 16 * 1024;

/** The name a text runs under, or null for a text to plan for its values (PLAN_FOR_VALUES). */
function statementName(text: string): string | null {
  if (text.length > MAX_REMEMBERED_TEXT) return nameOf(text);
  let name = NAMES.get(text);
  if (name === undefined) NAMES.set(text, (name = nameOf(text)));
  return name;
}

const nameOf = (text: string) => (text.includes(PLAN_FOR_VALUES) ? null : `hub_${createHash('sha1').update(text).digest('hex')}`);

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
    const name = statementName(text);
    if (name === null || this.stale.has(name)) return super.query(text, values);
    this.use(name);
    return (super.query({ name, text, values: values ?? [] }) as Promise<unknown>).catch((error: { code?: string }) => {
      if (error?.code && STALE_STATEMENT.has(error.code)) this.forget(name, error.code === '26000');
      throw error;
    });
  }

  private use(name: string): void {
    this.evicted.delete(name);
    for (const oldest of this.recent.set(name, true)) this.evicted.add(oldest);
  }

  /** A statement the server no longer has (`gone`), or whose plan changed shape (DDL, then
   * deallocated): run unnamed on this connection from now on. */
  private forget(name: string, gone: boolean): void {
    this.recent.delete(name);
    if (gone) delete this.parsed[name];
    else this.evicted.add(name);
    this.markStale(name);
  }

  private markStale(name: string): void {
    if (this.stale.size < STATEMENTS_PER_CONNECTION) this.stale.add(name);
  }

  private get parsed(): Record<string, string> {
    return parsedStatements(this);
  }

  private deallocateEvicted(): void {
    if (this.evicted.size === 0 || this.getTransactionStatus() !== 'I') return;
    const names = [...this.evicted].filter((name) => this.parsed[name] !== undefined);
    this.evicted.clear();
    if (names.length === 0) return;
    // Forgotten now: a later use of a text queues its Parse after this DEALLOCATE.
    for (const name of names) delete this.parsed[name];
    // One simple-protocol query for all of them, sent the moment the connection went idle: a
    // query per name queued behind one another (pg warns "client.query() when the client is
    // already executing a query", and whoever took the connection next waited for each). The
    // names are our own (hub_<hex>); DEALLOCATE takes no parameters. If the server lost one (only
    // behind a pooler that does not keep them), the batch stops there and those after it may
    // still exist: they run unnamed on this connection, so none is parsed again under its name.
    super.query(names.map((name) => `DEALLOCATE ${name}`).join('; ')).catch(() => names.forEach((name) => this.markStale(name)));
  }
}
