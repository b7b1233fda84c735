import { Config } from '../config';
import { withDatabase } from './usage';

export async function migrate(config: Config): Promise<void> {
  await withDatabase(config, async ({ dataSource }) => {
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    console.log(ran.length ? `applied ${ran.map((m) => m.name).join(', ')}` : 'no pending migrations');
  });
}

export async function migrateRevert(config: Config): Promise<void> {
  await withDatabase(config, async ({ dataSource }) => {
    const executed = await dataSource.query(`SELECT to_regclass('migrations') IS NOT NULL AS present`);
    if (!executed[0].present) throw new Error('no migration has been applied');
    const [last] = await dataSource.query(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`);
    if (!last) throw new Error('no migration has been applied');
    await dataSource.undoLastMigration({ transaction: 'each' });
    console.log(`reverted ${last.name}`);
  });
}
