import { DataSource, QueryRunner } from 'typeorm';

/** The SQL that would bring the database in line with the entities: empty when the
 * migrations and the entities agree. Used by the migrations test and by `hub migrate:diff`. */
export async function pendingSchemaDiff(dataSource: DataSource): Promise<{ up: string[]; down: string[] }> {
  // TypeORM's schema builder reads the catalogue with several queries at once on its one
  // connection (`Promise.all` over the enum columns' types), which pg deprecates and warns about:
  // its runner sends them one after another instead.
  const createQueryRunner = dataSource.createQueryRunner;
  dataSource.createQueryRunner = (mode) => oneQueryAtATime(createQueryRunner.call(dataSource, mode));
  try {
    const sql = await dataSource.driver.createSchemaBuilder().log();
    return {
      up: sql.upQueries.map((q) => q.query),
      down: sql.downQueries.map((q) => q.query),
    };
  } finally {
    dataSource.createQueryRunner = createQueryRunner;
  }
}

/** `runner` with its queries sent in call order, each after the previous one has answered. */
function oneQueryAtATime(runner: QueryRunner): QueryRunner {
  const query = runner.query.bind(runner);
  let previous: Promise<unknown> = Promise.resolve();
  runner.query = ((...args: Parameters<QueryRunner['query']>) => {
    const next = previous.then(() => query(...args));
    previous = next.catch(() => undefined);
    return next;
  }) as QueryRunner['query'];
  return runner;
}
