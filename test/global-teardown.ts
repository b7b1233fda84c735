import fs from 'node:fs/promises';
import { Client } from 'pg';
import { EmbeddedPostgres } from '../src/db/embedded';
import { withDatabaseName } from './databases';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis as Record<string, unknown>;
  const drop = state.__hubTestDrop as string | undefined;
  if (drop && process.env.DATABASE_URL) {
    const admin = new Client({ connectionString: withDatabaseName(process.env.DATABASE_URL, 'postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${drop} WITH (FORCE)`);
    await admin.end();
  }
  const local = state.__hubTestEmbedded as { embedded: EmbeddedPostgres; dir: string } | undefined;
  if (local) {
    await local.embedded.stop();
    await fs.rm(local.dir, { recursive: true, force: true });
  }
}
