import { signToken } from '../auth/tokens';
import { Config } from '../config';
import { Database } from '../db/database';
import { withMigrationLock } from '../db/migration-lock';
import { playgroundServed } from '../http/playground';
import { LIVE_DASHBOARD_PATH } from '../live/dashboard-assets';
import { Logger } from '../logger';
import { DEMO_SEED, seed } from '../seed/seed';
import { Role, User } from '../users/user.entity';

// What `hub serve` does once, before serving: shared by a single process (serve.ts) and a
// cluster's primary (cluster.ts), which forks the workers after it.

const DEV_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

/** Migrations (under the advisory lock, on the direct connection, so concurrent starts migrate
 * once even behind a pooler) and the demo seed. */
export async function prepareDatabase(db: Database, migrate: boolean, logger: Logger): Promise<void> {
  const { dataSource } = db;
  if (migrate) {
    const direct = await db.direct();
    const ran = await withMigrationLock(direct, () => direct.runMigrations({ transaction: 'each' }));
    if (ran.length) logger.info({ migrations: ran.map((m) => m.name) }, 'applied migrations');
  }
  if (db.embedded && (await dataSource.getRepository(User).count()) === 0) {
    const result = await seed(dataSource, DEMO_SEED);
    logger.info(result, 'seeded the demo data set');
  }
}

/** The serving URL and, in development, an admin token to try it with and where to use it. */
export async function printBanner(db: Database, config: Config, secret: string, url: string): Promise<void> {
  const { dataSource } = db;
  console.log(`\nHub Session Graph is serving ${url}/graphql`);
  if (db.embedded?.portTaken !== undefined) {
    console.log(`Embedded PostgreSQL on port ${db.embedded.port}: ${db.embedded.portTaken} is taken by another program (HUB_EMBEDDED_PG_PORT chooses one).`);
  }
  if (config.trustedDocuments === 'require') {
    console.log('Playground: off (HUB_TRUSTED_DOCUMENTS=require accepts only documentId requests; the playground sends documents as text).');
  }
  if (config.production) return;
  const admin = await dataSource.getRepository(User).findOne({ where: { role: Role.ADMIN }, order: { createdAt: 'ASC' } });
  if (admin) {
    // No longer than HUB_MAX_TOKEN_TTL allows, or the server would refuse its own token.
    const ttl = Math.min(DEV_TOKEN_TTL_SECONDS, config.maxTokenTtlSeconds);
    const token = signToken(secret, admin.id, ttl);
    console.log(`Admin token (${admin.email}, valid ${Math.round(ttl / 360) / 10} h), send it as "Authorization: Bearer <token>":\n`);
    console.log(`${token}\n`);
    if (playgroundServed(config)) console.log(`Playground with the token filled in: ${url}/graphql?token=${token}`);
    console.log(`Live dashboard: ${url}${LIVE_DASHBOARD_PATH}/?token=${token}\n`);
  } else {
    console.log('No admin user yet: create one with `hub user:create --email E --name N --role admin`.');
  }
}
