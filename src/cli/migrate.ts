import { Config } from '../config';
import { createProgress } from './progress';
import { Parsed, withDatabase } from './usage';
import { withMigrationLock } from '../db/migration-lock';

export async function migrate(config: Config, values: Parsed = {}): Promise<void> {
  const progress = createProgress({ quiet: values.quiet === true });
  await withDatabase(config, async (db) => {
    // Migrations and their session lock on a session of their own (HUB_DIRECT_DATABASE_URL).
    const dataSource = await db.direct();
    // TypeORM tells its logger how many migrations are pending and each one it finishes: one
    // progress line per migration, while they run.
    const logger = dataSource.logger;
    const original = logger.logSchemaBuild;
    let total = 0;
    let done = 0;
    logger.logSchemaBuild = function (message, queryRunner) {
      const pending = /^(\d+) migrations are new/.exec(message);
      if (pending) total = Number(pending[1]);
      const finished = /^Migration (\S+) has been executed successfully/.exec(message);
      if (finished) progress.tick(`migrate: ${++done}/${total} ${finished[1]}`);
      return original.call(this, message, queryRunner);
    };
    try {
      const ran = await withMigrationLock(dataSource, () => dataSource.runMigrations({ transaction: 'each' }));
      progress.summary(`applied ${ran.length} migration${ran.length === 1 ? '' : 's'}`);
      console.log(ran.length ? `applied ${ran.map((m) => m.name).join(', ')}` : 'no pending migrations');
    } finally {
      logger.logSchemaBuild = original;
    }
  });
}

export async function migrateRevert(config: Config): Promise<void> {
  await withDatabase(config, async (db) => {
    const dataSource = await db.direct();
    await withMigrationLock(dataSource, async () => {
    const executed = await dataSource.query(`SELECT to_regclass('migrations') IS NOT NULL AS present`);
    if (!executed[0].present) throw new Error('no migration has been applied');
    const [last] = await dataSource.query(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`);
    if (!last) throw new Error('no migration has been applied');
    await dataSource.undoLastMigration({ transaction: 'each' });
    console.log(`reverted ${last.name}`);
    });
  });
}
