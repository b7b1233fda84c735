import { FieldNode, FragmentDefinitionNode } from 'graphql';
import { Viewer } from '../auth/viewer';
import { Queryable } from '../db/query-rows';
import { SqlParams } from '../db/sql-params';
import { sessionScope } from './session.scope';

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
  ids: readonly string[];
  column: RelationColumn<unknown>;
  resolve: (values: unknown[]) => void;
  reject: (error: unknown) => void;
}

/**
 * The relations statement: one row per session in scope among all asked for, column `r<i>` the
 * value of relation `i`. A relation asked for fewer sessions than the statement reads is computed
 * only for those.
 */
export function relationsStatement(
  viewer: Viewer,
  relations: { ids: readonly string[]; column: RelationColumn<unknown> }[],
): { sql: string; params: unknown[] } {
  const params = new SqlParams();
  const ids = [...new Set(relations.flatMap((r) => r.ids))];
  const columns = relations.map((r, i) => {
    const sql = r.column.sql(params);
    const gated = r.ids.length === ids.length ? sql : `CASE WHEN s.id = ANY(${params.add(r.ids)}::uuid[]) THEN ${sql} END`;
    return `${gated} AS r${i}`;
  });
  const sql = `SELECT s.id, ${columns.join(', ')}
    FROM sessions s WHERE s.id = ANY(${params.add(ids)}::uuid[]) AND ${params.named(sessionScope(viewer, 's'))}`;
  return { sql, params: params.values };
}

/**
 * Sibling relations of the same sessions in one statement. A dashboard selects a session's
 * skills, message count, messages and node sync together; each has its own DataLoader (named,
 * cached, primed like any other), and each loader's batch arrives here as one column. The
 * statement runs once every loader dispatched in the same tick has added its column, so a list
 * of N sessions costs one statement for all its relations, whatever N and whichever are selected.
 * The viewer's scope is in the statement's join: a session out of scope has no relations.
 */
export function sessionRelations(db: Queryable, viewer: Viewer): LoadRelation {
  let pending: Pending[] | null = null;

  async function flush(batch: Pending[]) {
    try {
      const { sql, params } = relationsStatement(viewer, batch);
      const rows = await db.query<Record<string, unknown>>(sql, params);
      const byId = new Map(rows.map((row) => [row.id as string, row]));
      batch.forEach((p, i) => {
        const key = `r${i}`;
        p.resolve(p.ids.map((id) => p.column.decode(byId.get(id)?.[key] ?? null)));
      });
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }

  return <V>(ids: readonly string[], column: RelationColumn<V>) =>
    new Promise<V[]>((resolve, reject) => {
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
      pending.push({ ids, column: column as RelationColumn<unknown>, resolve: resolve as (values: unknown[]) => void, reject });
    });
}
