import { jwtSecret } from '../auth/secret';
import { signToken } from '../auth/tokens';
import { Config } from '../config';
import { openDatabase } from '../db/database';
import { createLogger } from '../logger';
import { DEMO_SEED, seed } from '../seed/seed';
import { createServer } from '../server';
import { Role, User } from '../users/user.entity';

const DEV_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

/**
 * `hub serve`: opens the database (embedded when DATABASE_URL is unset), migrates, seeds the
 * demo data on the embedded database's first start, serves, and on SIGTERM/SIGINT stops
 * accepting, finishes in-flight requests, closes the pool and stops the embedded database.
 */
export async function serve(config: Config, options: { migrate: boolean }): Promise<void> {
  const logger = createLogger(undefined, !config.production && process.stdout.isTTY);
  const secret = await jwtSecret(config);
  const db = await openDatabase(config, logger, { statementTimeoutMs: config.statementTimeoutMs });
  const { dataSource } = db;
  let server;
  try {
    if (options.migrate) {
      const ran = await dataSource.runMigrations({ transaction: 'each' });
      if (ran.length) logger.info({ migrations: ran.map((m) => m.name) }, 'applied migrations');
    }
    if (db.embedded && (await dataSource.getRepository(User).count()) === 0) {
      const result = await seed(dataSource, DEMO_SEED);
      logger.info(result, 'seeded the demo data set');
    }
    server = await createServer({ dataSource, config, secret, logger });
    const url = await server.listen();
    console.log(`\nHub Session Graph is serving ${url}/graphql`);
    if (!config.production) {
      const admin = await dataSource.getRepository(User).findOne({ where: { role: Role.ADMIN }, order: { createdAt: 'ASC' } });
      if (admin) {
        // No longer than HUB_MAX_TOKEN_TTL allows, or the server would refuse its own token.
        const ttl = Math.min(DEV_TOKEN_TTL_SECONDS, config.maxTokenTtlSeconds);
        const token = signToken(secret, admin.id, ttl);
        console.log(`Admin token (${admin.email}, valid ${Math.round(ttl / 360) / 10} h), send it as "Authorization: Bearer <token>":\n`);
        console.log(`${token}\n`);
        console.log(`Playground with the token filled in: ${url}/graphql?token=${token}\n`);
      } else {
        console.log('No admin user yet: create one with `hub user:create --email E --name N --role admin`.');
      }
    }
  } catch (error) {
    await server?.close().catch(() => undefined);
    await db.close();
    throw error;
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    try {
      await server.close();
      await db.close();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
