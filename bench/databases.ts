import path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createDataSource } from '../ormconfig';
import { EmbeddedPostgres, startEmbeddedPostgres } from '../src/db/embedded';
import { seed, SeedOptions } from '../src/seed/seed';

const ROOT = path.join(__dirname, '..', '..');

/** The standard data set of `hub seed`, and ten times it (`--scale 10`). */
export const DATA_SETS: Record<number, SeedOptions> = {
  1: { users: 1000, sessions: 20_000, messages: 400_000, skills: 50, seed: 'bench' },
  10: { users: 10_000, sessions: 200_000, messages: 4_000_000, skills: 200, seed: 'bench' },
};

export interface BenchCluster {
  /** The URL of the bench database for a scale (created, migrated and seeded on first use, then kept). */
  database(scale: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The bench's own databases: `hub_bench` (scale 1) and `hub_bench_x10` on `DATABASE_URL`'s
 * server, or in an embedded PostgreSQL under `.bench/`. Each is seeded once and kept between runs
 * (the ten-fold set takes minutes), then `VACUUM ANALYZE`d on every run: statistics and the
 * visibility map as autovacuum would have left them on a live server.
 */
export async function openBenchCluster(log: (m: string) => void = console.log): Promise<BenchCluster> {
  let embedded: EmbeddedPostgres | undefined;
  let base: URL;
  if (process.env.DATABASE_URL) base = new URL(process.env.DATABASE_URL);
  else {
    embedded = await startEmbeddedPostgres(path.join(ROOT, '.bench'));
    base = new URL(embedded.url);
  }
  const urlOf = (name: string) => {
    const url = new URL(base.toString());
    url.pathname = `/${name}`;
    return url.toString();
  };
  return {
    async database(scale) {
      const name = scale === 1 ? 'hub_bench' : `hub_bench_x${scale}`;
      const admin = new Client({ connectionString: urlOf('postgres') });
      await admin.connect();
      try {
        const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name]);
        if (!exists.rowCount) await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      const url = urlOf(name);
      const ds = createDataSource({ url, poolSize: 2 });
      await ds.initialize();
      try {
        await ds.runMigrations();
        await seedOnce(ds, DATA_SETS[scale], log);
        await ds.query('VACUUM ANALYZE');
      } finally {
        await ds.destroy();
      }
      return url;
    },
    async stop() {
      await embedded?.stop();
    },
  };
}

async function seedOnce(ds: DataSource, set: SeedOptions, log: (m: string) => void): Promise<void> {
  const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM users');
  if (n >= set.users) return;
  if (n > 0) throw new Error(`the bench database holds ${n} users, not the ${set.users} of its data set: drop it and run again`);
  log(`seeding ${set.users} users, ${set.sessions} sessions, ${set.messages} messages, ${set.skills} skills (once; kept for later runs)…`);
  const started = Date.now();
  await seed(ds, set);
  log(`seeded in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** Seeds the databases of the given scales and exits (`node dist/bench/databases.js 1 10`). */
if (require.main === module) {
  void (async () => {
    const cluster = await openBenchCluster();
    try {
      for (const scale of process.argv.slice(2).map(Number)) console.log(await cluster.database(scale));
    } finally {
      await cluster.stop();
    }
  })();
}
