import { getMetadataArgsStorage } from 'typeorm';

/**
 * An entity as the API reads it: its columns under their property names, each timestamp either a
 * `Date` (an entity a write just saved) or the ISO-8601 text PostgreSQL formatted (the read path,
 * which never round-trips a timestamp through `Date`). The `DateTime` scalar serializes both.
 */
export type ReadModel<T> = {
  [K in keyof T]: T[K] extends Date ? Date | string : Exclude<T[K], null> extends Date ? Date | string | null : T[K];
};

/** A timestamp as `Date#toISOString()` would write it, formatted by PostgreSQL: fixed width, so the
 * texts of two times compare (byte-wise, `COLLATE "C"`) as the times do. */
export const isoText = (expression: string) => `to_char(${expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

interface ColumnOf {
  property: string;
  column: string;
  timestamp: boolean;
}

/** The SQL and hydration of one entity's rows on the read path, derived from its TypeORM columns. */
export interface EntityRows<T> {
  /** Database column name of each property. */
  readonly columnOf: Readonly<Record<string, string>>;
  /**
   * The select list of the entity's columns on `alias`, named as its properties (timestamps as ISO
   * text), so a row of such a statement already is the read model: nothing is copied. Under a
   * `prefix` the entity can ride along in another entity's row (`fromRow` takes it back out).
   * With `properties`, only those columns (a read model cut to what a selection reads: never
   * cache it where a whole one is expected).
   */
  select(alias: string, prefix?: string, properties?: readonly string[] | null): string;
  /** A row of `select(alias, prefix)` as the read model (the row itself when there is no prefix). */
  fromRow(row: Record<string, unknown>, prefix?: string): ReadModel<T>;
  /** `ORDER BY` terms for a keyset order (`column`, then id) over rows of `select(alias)`: a
   * timestamp compares as its ISO text, byte-wise. */
  orderBy(alias: string, column: string, desc: boolean): string;
  /** The write path's flavour of `select`: the columns as stored (pg parses timestamps into
   * `Date`s), under the same `prefix`ed property names, for `toEntity`. */
  entitySelect(alias: string, prefix?: string): string;
  /** A row of `entitySelect` as an entity instance, as TypeORM would hydrate it (writes save it). */
  toEntity(row: Record<string, unknown>, prefix?: string): T;
  /**
   * A leaf list as one JSON array built by PostgreSQL, each element the read model (pg's
   * JSON.parse yields them as they are): `rows` is a sub-select of `select(alias)` rows, its own
   * `ORDER BY` (and `LIMIT`) giving the order. ARRAY() of a plain scan of that sub-select keeps
   * its order, and PostgreSQL turns the row values into objects keyed by their column names:
   * measured at 100 sessions, a fifth less of the page statement's time than one
   * `json_build_object` per row aggregated with `json_agg(… ORDER BY …)`.
   */
  jsonList(rows: string): string;
  /** One row of a sub-select of `select(alias)` rows as a JSON object, or null without a row. */
  jsonRow(rows: string): string;
  /**
   * `select(alias)` for rows that `jsonList`/`jsonRow` turn into JSON: timestamps as they are
   * stored, which PostgreSQL's JSON writes as ISO 8601 with an offset (`…T08:00:00.12+00:00`),
   * cheaper than `to_char`; `fromJson` makes them the read model's text. With `properties`, only
   * those columns (a read model cut to what a selection reads: never cache it where a whole one is expected).
   */
  jsonSelect(alias: string, properties?: readonly string[] | null): string;
  /** Rows of `jsonSelect` as parsed from JSON, made read models in place (timestamps as `isoText` writes them). */
  fromJson<R extends ReadModel<T> | null>(rows: R[]): R[];
}

/** PostgreSQL's JSON text of a UTC timestamptz (fraction without trailing zeros, or none). */
const JSON_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?\+00:00$/;

/**
 * A timestamp as PostgreSQL's JSON writes it, as `isoText` (and `Date#toISOString()`) would:
 * milliseconds always, `Z`. Timestamps are stored with millisecond precision; another session
 * offset than UTC (a pooler's) is converted through `Date`. A dashboard converts a few thousand
 * per request: the shape is tested without capturing, the parts cut by position.
 */
export function isoFromJson(text: string): string {
  if (!JSON_UTC.test(text)) return new Date(text).toISOString();
  // 19 characters of date and time, then `+00:00` directly or after `.` and 1–6 digits.
  const digits = text.length === 25 ? 0 : text.length - 26;
  const fraction = digits === 0 ? '.000' : digits >= 3 ? text.slice(19, 23) : text.slice(19, 20 + digits).padEnd(4, '0');
  return `${text.slice(0, 19)}${fraction}Z`;
}

const TIMESTAMP_TYPES = new Set(['timestamptz', 'timestamp with time zone', 'timestamp', 'timestamp without time zone']);
const TIMESTAMP_MODES = new Set(['createDate', 'updateDate', 'deleteDate']);

/**
 * Reads `entity`'s columns from TypeORM's decorator metadata (property name, column name, whether
 * it is a timestamp) once, at module load: the entity class is the one place its columns are written.
 */
export function entityRows<T>(entity: new () => T): EntityRows<T> {
  const columns: ColumnOf[] = getMetadataArgsStorage()
    .filterColumns(entity)
    .filter((c) => c.mode !== 'virtual' && c.mode !== 'virtual-property')
    // A column the entity never selects (a derived one, such as a search vector) is no read model's.
    .filter((c) => c.options.select !== false)
    .map((c) => ({
      property: c.propertyName,
      column: c.options.name ?? c.propertyName,
      timestamp: TIMESTAMP_MODES.has(c.mode) || (typeof c.options.type === 'string' && TIMESTAMP_TYPES.has(c.options.type)),
    }));
  if (!columns.length) throw new Error(`${entity.name} has no TypeORM columns`);
  const value = (alias: string, c: ColumnOf) => (c.timestamp ? isoText(`${alias}.${c.column}`) : `${alias}.${c.column}`);
  const prefixed = new Map<string, [property: string, key: string][]>();
  const timestamps = columns.filter((c) => c.timestamp).map((c) => c.property);
  const only = (properties: readonly string[] | null | undefined) => (properties ? columns.filter((c) => properties.includes(c.property)) : columns);

  return {
    columnOf: Object.fromEntries(columns.map((c) => [c.property, c.column])),
    select: (alias, prefix = '', properties) =>
      only(properties).map((c) => `${value(alias, c)} AS "${prefix}${c.property}"`).join(', '),
    fromRow(row, prefix = '') {
      if (!prefix) return row as ReadModel<T>;
      let keys = prefixed.get(prefix);
      if (!keys) prefixed.set(prefix, (keys = columns.map((c) => [c.property, `${prefix}${c.property}`])));
      const model: Record<string, unknown> = {};
      for (const [property, key] of keys) model[property] = row[key];
      return model as ReadModel<T>;
    },
    entitySelect: (alias, prefix = '') => columns.map((c) => `${alias}.${c.column} AS "${prefix}${c.property}"`).join(', '),
    toEntity(row, prefix = '') {
      const instance = new entity() as Record<string, unknown>;
      for (const c of columns) instance[c.property] = row[`${prefix}${c.property}`];
      return instance as T;
    },
    orderBy(alias, column, desc) {
      const c = columns.find((x) => x.column === column);
      if (!c) throw new Error(`${entity.name} has no column ${column}`);
      const dir = desc ? 'DESC' : 'ASC';
      return `${alias}."${c.property}"${c.timestamp ? ' COLLATE "C"' : ''} ${dir}, ${alias}.id ${dir}`;
    },
    jsonList: (rows) => `array_to_json(array(SELECT x FROM (${rows}) x))`,
    jsonRow: (rows) => `(SELECT row_to_json(x) FROM (${rows}) x)`,
    jsonSelect: (alias, properties) => only(properties).map((c) => `${alias}.${c.column} AS "${c.property}"`).join(', '),
    fromJson(rows) {
      for (const row of rows) {
        if (!row) continue;
        const record = row as unknown as Record<string, unknown>;
        for (const property of timestamps) {
          const value = record[property];
          if (typeof value === 'string') record[property] = isoFromJson(value);
        }
      }
      return rows;
    },
  };
}
