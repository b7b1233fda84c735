import 'reflect-metadata';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createDataSource } from '../ormconfig';
import { startEmbeddedPostgres } from '../src/db/embedded';
import { uniqueDatabaseName, withDatabaseName } from './databases';

/**
 * One fresh, migrated database per test run: a new database on DATABASE_URL's server when it
 * is set (never its leftover state), else an embedded PostgreSQL in a temporary directory.
 * Workers find it in HUB_TEST_DATABASE_URL.
 */
export default async function globalSetup(): Promise<void> {
  // The AWS SDK warns once per process that its 2027 releases will need Node 22 (engines says
  // >= 20): true, and said in the README, not in every test run's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let url: string;
  if (process.env.DATABASE_URL) {
    const name = uniqueDatabaseName('hub_test');
    const admin = new Client({ connectionString: withDatabaseName(process.env.DATABASE_URL, 'postgres') });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    url = withDatabaseName(process.env.DATABASE_URL, name);
    (globalThis as Record<string, unknown>).__hubTestDrop = name;
  } else {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-test-'));
    await fs.chmod(dir, 0o755);
    const embedded = await startEmbeddedPostgres(dir);
    url = embedded.url;
    (globalThis as Record<string, unknown>).__hubTestEmbedded = { embedded, dir };
  }
  const dataSource = createDataSource({ url, poolSize: 1 });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  await dataSource.destroy();
  process.env.HUB_TEST_DATABASE_URL = url;
}
