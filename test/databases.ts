/** Helpers shared by the jest global setup and the tests that need a database of their own. */
import { Client } from 'pg';
import { createDataSource } from '../ormconfig';

/** The same server as `url`, another database. */
export function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

export function uniqueDatabaseName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** A new, migrated database on the test server, for tests that need one to themselves
 * (schema up/down, exact seed counts). `drop()` removes it. */
export async function freshDatabase(baseUrl: string, migrate = true): Promise<{ url: string; drop(): Promise<void> }> {
  const name = uniqueDatabaseName('hub_fresh');
  const adminUrl = withDatabaseName(baseUrl, 'postgres');
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabaseName(baseUrl, name);
  if (migrate) {
    const ds = createDataSource({ url, poolSize: 1 });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    await ds.destroy();
  }
  return {
    url,
    async drop() {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
