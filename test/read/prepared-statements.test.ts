/**
 * Named prepared statements (src/db/prepared-statements.ts) on a real PostgreSQL: whatever the
 * sequence of statements, transactions and failures on a connection, every answer is the one an
 * unnamed statement gives, the server never holds more than the connection's bound, a statement
 * whose plan changed shape under DDL recovers, and a deallocation never lands inside a transaction.
 */
import fc from 'fast-check';
import { Client } from 'pg';
import { PreparingClient } from '../../src/db/prepared-statements';
import { testDatabaseUrl } from '../harness';

const BOUND = 100;

type Op =
  | { kind: 'select'; shape: number; value: number }
  | { kind: 'begin' }
  | { kind: 'commit' }
  | { kind: 'rollback' }
  | { kind: 'fail'; shape: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ kind: fc.constant('select' as const), shape: fc.integer({ min: 0, max: 250 }), value: fc.integer({ min: -1000, max: 1000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'begin' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'commit' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'rollback' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fail' as const), shape: fc.integer({ min: 0, max: 250 }) }) },
);

async function prepared(client: Client): Promise<number> {
  // A separate connection would not see this session's statements: ask this one, unnamed.
  const unnamed = Client.prototype.query as (this: Client, text: string) => Promise<{ rows: { n: number }[] }>;
  const { rows } = await unnamed.call(client, `SELECT count(*)::int AS n FROM pg_prepared_statements`);
  return rows[0].n;
}

describe('named prepared statements', () => {
  it('answer as unnamed statements do, within the bound, across transactions and failures', async () => {
    // pg warns when a query is sent while another waits in the queue: the idle-time DEALLOCATEs did.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    let statements = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 300, maxLength: 900 }), async (ops) => {
        const client = new PreparingClient({ connectionString: testDatabaseUrl() });
        await client.connect();
        try {
          let inTransaction = false;
          let aborted = false;
          for (const o of ops) {
            if (o.kind === 'begin' && !inTransaction) {
              await client.query('BEGIN');
              inTransaction = true;
            } else if ((o.kind === 'commit' || o.kind === 'rollback') && inTransaction) {
              await client.query(o.kind === 'commit' ? 'COMMIT' : 'ROLLBACK');
              inTransaction = aborted = false;
            } else if (o.kind === 'select' && !aborted) {
              // 251 shapes: more than a connection keeps, so some are deallocated and parsed again.
              const { rows } = await client.query(`SELECT $1::int + ${o.shape} AS v`, [o.value]);
              expect(rows).toEqual([{ v: o.value + o.shape }]);
              statements += 1;
            } else if (o.kind === 'fail' && !aborted) {
              await expect(client.query(`SELECT 1 / ($1::int - $1::int) + ${o.shape} AS v`, [1])).rejects.toMatchObject({ code: '22012' });
              if (inTransaction) aborted = true;
            }
          }
          if (inTransaction) await client.query('ROLLBACK');
          // Evicted statements are deallocated once the connection is idle.
          await new Promise((resolve) => setImmediate(resolve));
          await client.query('SELECT 1');
          expect(await prepared(client)).toBeLessThanOrEqual(BOUND);
        } finally {
          await client.end();
        }
      }),
      { numRuns: 25 },
    ).finally(() => process.off('warning', onWarning));
    expect(statements).toBeGreaterThan(5000);
    expect(warnings.filter((message) => /already executing/.test(message))).toEqual([]);
  }, 120_000);

  it('with preparedStatements false (HUB_PREPARED_STATEMENTS=false) every statement runs unnamed', async () => {
    const client = new PreparingClient({ connectionString: testDatabaseUrl(), preparedStatements: false });
    await client.connect();
    try {
      for (let i = 0; i < 20; i += 1) expect((await client.query(`SELECT $1::int + ${i % 3} AS v`, [i])).rows).toEqual([{ v: i + (i % 3) }]);
      expect(await prepared(client)).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('a statement whose result type changed under DDL fails once, then runs again', async () => {
    const url = testDatabaseUrl();
    const client = new PreparingClient({ connectionString: url });
    const ddl = new Client({ connectionString: url });
    await Promise.all([client.connect(), ddl.connect()]);
    const table = `prepared_ddl_${process.pid}`;
    try {
      await ddl.query(`CREATE TABLE ${table} (a int)`);
      await ddl.query(`INSERT INTO ${table} VALUES (1)`);
      for (let i = 0; i < 7; i += 1) expect((await client.query(`SELECT * FROM ${table} WHERE a = $1`, [1])).rows).toEqual([{ a: 1 }]);
      await ddl.query(`ALTER TABLE ${table} ADD COLUMN b int DEFAULT 2`);
      await expect(client.query(`SELECT * FROM ${table} WHERE a = $1`, [1])).rejects.toMatchObject({ code: '0A000' });
      for (let i = 0; i < 3; i += 1) expect((await client.query(`SELECT * FROM ${table} WHERE a = $1`, [1])).rows).toEqual([{ a: 1, b: 2 }]);
    } finally {
      await ddl.query(`DROP TABLE IF EXISTS ${table}`);
      await Promise.all([client.end(), ddl.end()]);
    }
  });
});
