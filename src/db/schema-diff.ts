import { DataSource } from 'typeorm';

/** The SQL that would bring the database in line with the entities: empty when the
 * migrations and the entities agree. Used by the schema test and by `hub migrate:diff`. */
export async function pendingSchemaDiff(dataSource: DataSource): Promise<{ up: string[]; down: string[] }> {
  const sql = await dataSource.driver.createSchemaBuilder().log();
  return {
    up: sql.upQueries.map((q) => q.query),
    down: sql.downQueries.map((q) => q.query),
  };
}
