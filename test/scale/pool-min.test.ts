import fc from 'fast-check';
import { Client } from 'pg';
import { DATA_MODEL } from '../../ormconfig';
import { ConfigError, loadConfig } from '../../src/config';
import { openDatabase } from '../../src/db/database';
import { POOL_SIZE } from '../../src/db/pool-size';
import { createLogger } from '../../src/logger';
import { freshDatabase, withDatabaseName } from '../databases';
import { testDatabaseUrl } from '../harness';

// HUB_DB_POOL_MIN: a serving process opens that many connections before it is ready and keeps
// them idle, so the first requests of a process started under load never wait for a
// connection's start (a backend, SCRAM's key derivation), and a burst after a quiet spell neither.

describe('HUB_DB_POOL_MIN', () => {
  it('defaults to the whole pool in production and to none elsewhere; takes 0 to the pool size; refuses anything else (empty is unset)', () => {
    expect(loadConfig({ NODE_ENV: 'production', HUB_JWT_SECRET: 'x'.repeat(32) }).poolMin).toBe(POOL_SIZE);
    expect(loadConfig({}).poolMin).toBe(0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: POOL_SIZE }), (n) => loadConfig({ HUB_DB_POOL_MIN: String(n) }).poolMin === n),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: POOL_SIZE + 1 }), fc.integer({ max: -1 }), fc.string().filter((s) => s !== '' && !(Number.isInteger(Number(s)) && Number(s) >= 0 && Number(s) <= POOL_SIZE)), fc.constant('2.5')),
        (bad) => {
          try {
            loadConfig({ HUB_DB_POOL_MIN: String(bad) });
            return false;
          } catch (error) {
            return error instanceof ConfigError && error.message.includes('HUB_DB_POOL_MIN');
          }
        },
      ),
    );
  });

  describe('on a database', () => {
    let db: { url: string; drop(): Promise<void> };
    let admin: Client;
    beforeAll(async () => {
      db = await freshDatabase(testDatabaseUrl());
      admin = new Client({ connectionString: withDatabaseName(db.url, 'postgres') });
      await admin.connect();
    });
    afterAll(async () => {
      await admin.end();
      await db.drop();
    });

    const backends = async (): Promise<number[]> =>
      (
        await admin.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'hub-session-graph' ORDER BY pid`, [
          new URL(db.url).pathname.slice(1),
        ])
      ).rows.map((r: { pid: number }) => r.pid);

    const open = (poolMin: number) =>
      openDatabase(DATA_MODEL, loadConfig({ DATABASE_URL: db.url }), createLogger('silent'), { poolMin, statementTimeoutMs: 10_000 });

    it('opens that many connections before it returns, and as many concurrent statements start no backend', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: POOL_SIZE }), async (poolMin) => {
          const database = await open(poolMin);
          try {
            const before = await backends();
            // The check of the session settings used one of them.
            expect(before).toHaveLength(poolMin);
            const used = await Promise.all(
              Array.from({ length: poolMin }, () => database.dataSource.query('SELECT pg_backend_pid() AS pid, pg_sleep(0.05)')),
            );
            expect(new Set(used.map(([row]) => row.pid)).size).toBe(poolMin);
            expect(await backends()).toEqual(before);
          } finally {
            await database.close();
          }
        }),
        { numRuns: 4 },
      );
    });

    it('keeps them open while idle, and closes the others (pg-pool closes an idle one after 10 s)', async () => {
      const database = await open(2);
      try {
        await Promise.all(Array.from({ length: 5 }, () => database.dataSource.query('SELECT pg_sleep(0.05)')));
        expect(await backends()).toHaveLength(5);
        await new Promise((resolve) => setTimeout(resolve, 11_000));
        expect(await backends()).toHaveLength(2);
      } finally {
        await database.close();
      }
    }, 30_000);
  });
});
