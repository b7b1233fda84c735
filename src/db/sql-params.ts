/**
 * Positional parameters for raw SQL (`$1`, `$2`, …). Hot read paths build their SQL by hand
 * (TypeORM's QueryBuilder cannot write LATERAL), and values only ever travel as parameters.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  /** Adds a value and returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /**
   * A row limit, written into the text rather than bound: PostgreSQL keeps a generic plan for a
   * prepared statement only when it costs no more than the custom ones, and a bound `LIMIT $n`
   * is estimated as a tenth of the table (src/db/prepared-statements.ts). Page sizes are
   * validated integers, so the text stays one of a few hundred shapes.
   */
  limit(rows: number): string {
    if (!Number.isSafeInteger(rows) || rows < 0) throw new Error(`a row limit must be a non-negative integer, got ${rows}`);
    return String(rows);
  }

  /**
   * Rewrites a TypeORM-style condition (`:name` placeholders, as `sessionScope` returns) into
   * positional placeholders bound here, so every raw statement can reuse the one scope rule.
   */
  named(condition: { sql: string; params: Record<string, unknown> }): string {
    return condition.sql.replace(/(?<!:):([A-Za-z_]\w*)/g, (match, name: string) =>
      name in condition.params ? this.add(condition.params[name]) : match,
    );
  }
}
