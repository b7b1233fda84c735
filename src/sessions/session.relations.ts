import { FieldNode, FragmentDefinitionNode } from 'graphql';
import { Viewer } from '../auth/viewer';
import { Queryable } from '../db/query-rows';
import { SqlParams } from '../db/sql-params';
import { scopeKey, SharedReads, ViewerKey, viewerKeysRelation } from '../db/viewer-keys';
import { sessionScopeOfRow } from './session.scope';

/** One relation of a session as a column of the relations statement. */
export interface RelationColumn<V> {
  /** A correlated sub-select over the session `s` (values bound through `params`); leaf lists
   * as JSON built by PostgreSQL, which pg hands back parsed. */
  sql(params: SqlParams): string;
  /** The column's value for one session; `null` when the session is out of the viewer's scope. */
  decode(value: unknown): V;
}

/**
 * How a list that selects a Session field fetches it with its own page statement: the field's
 * column for the field's arguments, and the priming of the field's loader with each session's value
 * (the field's resolver then reads it from the loader like any other).
 */
export interface Prefetch {
  column: RelationColumn<unknown>;
  prime(sessionId: string, value: unknown): void;
  /** What tells two prefetches of one field apart (its loader key's arguments part); default: the arguments. */
  key?: string;
}

/** The selection of one Session field in a list's nodes: a prefetch may read only what it asks for. */
export interface FieldSelection {
  field: FieldNode;
  fragments: Record<string, FragmentDefinitionNode>;
}

/** Session field name → its prefetch for the field's arguments (as `getArgumentValues` gives them) and selection. */
export type SessionFieldPrefetch = Record<string, (args: Record<string, unknown>, selection: FieldSelection) => Prefetch>;

/** Loads one relation for sessions `ids`, one value per id, in order. */
export type LoadRelation = <V>(ids: readonly string[], column: RelationColumn<V>) => Promise<V[]>;

interface Pending {
  viewer: Viewer;
  ids: readonly string[];
  column: RelationColumn<unknown>;
  resolve: (values: unknown[]) => void;
  reject: (error: unknown) => void;
}

/**
 * The relations statement: one row per (viewer, session) in that viewer's scope among all asked
 * for, column `r<i>` the value of relation `i`, `_nth` the row's position among the distinct
 * (scope, session) keys (`positions`: each relation's ids in order, as positions). A relation
 * asked for fewer rows than the statement reads is computed only for its own.
 */
export function relationsStatement(
  relations: { viewer: Viewer; ids: readonly string[]; column: RelationColumn<unknown> }[],
): { sql: string; params: unknown[]; positions: number[][] } {
  const params = new SqlParams();
  const keys: ViewerKey<string>[] = [];
  const nth = new Map<string, number>();
  const positions = relations.map(({ viewer, ids }) =>
    ids.map((id) => {
      const key = `${scopeKey(viewer)}|${id}`;
      let at = nth.get(key);
      if (at === undefined) {
        keys.push({ viewer, key: id });
        nth.set(key, (at = keys.length));
      }
      return at;
    }),
  );
  const from = viewerKeysRelation(params, keys, 'k');
  const columns = relations.map((r, i) => {
    const sql = r.column.sql(params);
    const asked = [...new Set(positions[i])];
    const gated = asked.length === keys.length ? sql : `CASE WHEN k.nth = ANY(${params.add(asked)}::int[]) THEN ${sql} END`;
    return `${gated} AS r${i}`;
  });
  const sql = `SELECT k.nth AS "_nth", ${columns.join(', ')}
    FROM ${from} JOIN sessions s ON s.id = k.key WHERE ${sessionScopeOfRow('s', 'k.viewer_id', 'k.viewer_admin')}`;
  return { sql, params: params.values, positions };
}

/** Gathers the relation columns asked for in one tick into one statement (see sessionRelations). */
function relationsBatcher(db: Queryable) {
  let pending: Pending[] | null = null;

  async function flush(batch: Pending[]) {
    try {
      const { sql, params, positions } = relationsStatement(batch);
      const rows = await db.query<Record<string, unknown>>(sql, params);
      const byNth = new Map(rows.map((row) => [Number(row._nth), row]));
      batch.forEach((p, i) => {
        const key = `r${i}`;
        p.resolve(positions[i].map((at) => p.column.decode(byNth.get(at)?.[key] ?? null)));
      });
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }

  return (viewer: Viewer, ids: readonly string[], column: RelationColumn<unknown>) =>
    new Promise<unknown[]>((resolve, reject) => {
      if (!pending) {
        const batch: Pending[] = (pending = []);
        // DataLoader dispatches each loader's batch in a tick of its own after the current promise
        // jobs; this runs after all of those queued with it, so siblings share the statement.
        void Promise.resolve().then(() =>
          process.nextTick(() => {
            pending = null;
            void flush(batch);
          }),
        );
      }
      pending.push({ viewer, ids, column, resolve, reject });
    });
}

/**
 * Sibling relations of the same sessions in one statement. A dashboard selects a session's
 * skills, message count, messages and node sync together; each has its own DataLoader (named,
 * cached, primed like any other), and each loader's batch arrives here as one column. The
 * statement runs once every loader dispatched in the same tick has added its column, so a list
 * of N sessions costs one statement for all its relations, whatever N and whichever are selected.
 * The viewer's scope is in the statement's join, per row: a session out of scope has no
 * relations. Given a live batch's `shared` reads, the columns of every viewer of the batch go
 * into the same statement (db/viewer-keys.ts).
 */
export function sessionRelations(db: Queryable, viewer: Viewer, shared?: SharedReads): LoadRelation {
  const batcher = shared ? shared.slot('sessionRelations', () => relationsBatcher(db)) : relationsBatcher(db);
  return <V>(ids: readonly string[], column: RelationColumn<V>) => batcher(viewer, ids, column as RelationColumn<unknown>) as Promise<V[]>;
}
