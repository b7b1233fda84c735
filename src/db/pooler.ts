import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';

/**
 * Behind a transaction-mode pooler (PgBouncer) a client's consecutive transactions may run on
 * different server sessions, and the startup packet's `options` is refused. Three consequences,
 * each checked here once at start rather than paid for on every request:
 * - the session settings cannot be sent at connect; they must come from the server (ALTER ROLE …
 *   SET, or the pooler's connect_query) and are verified, never assumed (`verifySessionSettings`);
 * - a named statement parsed on one server session is missing on the next (PgBouncer before 1.21,
 *   or without max_prepared_statements): detected, and the pool runs unnamed
 *   (`namedStatementsSurvive`);
 * - LISTEN and session advisory locks need a session of their own: HUB_DIRECT_DATABASE_URL.
 *
 * Setting them per transaction (`SET LOCAL` ahead of each statement) was the alternative: a read
 * is one statement outside any transaction, so it would become BEGIN+SET, the statement, COMMIT:
 * two more round trips per read through the pooler (node-postgres does not pipeline). Verifying
 * once costs one query at start, and nothing on the direct path, which keeps its startup options.
 */

/** A setting the server applies to pooled connections that is not the one we need. */
export interface SettingMismatch {
  name: string;
  expected: string;
  actual: string;
  /** Losing it changes results or removes a safety bound (not only speed). */
  essential: boolean;
}

const UTC_NAMES = new Set(['utc', 'etc/utc', 'uct', 'etc/uct', 'universal', 'etc/universal', 'zulu', 'etc/zulu', 'gmt', 'etc/gmt']);

/** The session settings a pooled connection actually has, compared with `expected` (src/db/data-source.ts's
 * `sessionSettings`), and an ALTER ROLE that gives them to every server session of this role and database. */
export async function sessionSettingMismatches(
  dataSource: DataSource,
  expected: Record<string, string>,
): Promise<{ mismatches: SettingMismatch[]; advice: string }> {
  const rows: { name: string; setting: string; role: string; database: string }[] = await dataSource.query(
    `SELECT lower(name) AS name, setting, current_user AS role, current_database() AS database
       FROM pg_settings WHERE lower(name) = ANY($1::text[])`,
    [Object.keys(expected).map((name) => name.toLowerCase())],
  );
  const actual = new Map(rows.map((row) => [row.name, row.setting]));
  const mismatches: SettingMismatch[] = [];
  for (const [name, want] of Object.entries(expected)) {
    const have = actual.get(name.toLowerCase()) ?? '';
    const same = name === 'timezone' ? UTC_NAMES.has(have.toLowerCase()) : Number(have) === Number(want);
    if (!same) mismatches.push({ name, expected: want, actual: have, essential: name !== 'random_page_cost' });
  }
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const target = `ALTER ROLE ${quote(rows[0]?.role ?? 'hub')} IN DATABASE ${quote(rows[0]?.database ?? 'hub')}`;
  const sets = mismatches.map((m) => `${target} SET ${m.name} = '${m.name === 'statement_timeout' ? `${m.expected}ms` : m.expected}';`);
  return { mismatches, advice: `run once on the database: ${sets.join(' ')} (or set them in the pooler's connect_query)` };
}

/**
 * Whether a named statement parsed by one connection is still there for its next statement,
 * through `url`. Two clients: A prepares; B holds a transaction (PgBouncer hands it the server A
 * just released); A executes again. Through a pooler that moves A to another server without
 * tracking prepared statements, that execution fails with 26000 ("prepared statement does not
 * exist"). Done twice, B before and after A's first run, so the pooler's server order does not
 * matter. Costs a few milliseconds at start.
 */
export async function namedStatementsSurvive(url: string): Promise<boolean> {
  const a = new Client({ connectionString: url, application_name: 'hub-pooler-check' });
  const b = new Client({ connectionString: url, application_name: 'hub-pooler-check' });
  a.on('error', () => undefined);
  b.on('error', () => undefined);
  await a.connect();
  try {
    await b.connect();
    for (let round = 0; round < 2; round++) {
      const name = `hub_pooler_check_${randomBytes(6).toString('hex')}`;
      await a.query({ name, text: 'SELECT $1::int AS n', values: [round] });
      await b.query('BEGIN');
      await b.query('SELECT 1');
      // A pool of one server would make A wait for B's transaction: B ends it after a moment.
      const again = a.query({ name, text: 'SELECT $1::int AS n', values: [round] }).then(
        () => true,
        (error: { code?: string }) => {
          if (error.code === '26000' || error.code === '42P05') return false;
          throw error;
        },
      );
      await Promise.race([again, new Promise((resolve) => setTimeout(resolve, 200))]);
      await b.query('ROLLBACK');
      if (!(await again)) return false;
    }
    return true;
  } finally {
    await Promise.all([a.end().catch(() => undefined), b.end().catch(() => undefined)]);
  }
}

/** The pooler's refusal of the startup `options`, explained (the error itself names no remedy). */
export function explainStartupRefusal(error: unknown): Error | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (!/unsupported startup parameter/i.test(message)) return undefined;
  return new Error(
    `${message}: DATABASE_URL looks like a connection pooler (PgBouncer). Set HUB_DIRECT_DATABASE_URL to a direct ` +
      'PostgreSQL connection (for LISTEN and migrations); the pool then connects without startup options and ' +
      'verifies the session settings instead (docs/SCALING.md).',
  );
}
