import { Viewer } from '../auth/viewer';
import { Loader, loader } from './loader';
import { SqlParams } from './sql-params';

/** A key read for one viewer: the viewer's scope is part of the read. */
export interface ViewerKey<K> {
  viewer: Viewer;
  key: K;
}

/** Reads keys that may belong to many viewers in one statement, the scope applied per row (the
 * feature's scope rule in its per-row form): one value per key, in key order. */
export type ViewerKeysBatch<K, V> = (keys: readonly ViewerKey<K>[]) => Promise<V[]>;

/** What a viewer may see depends on their role and, for a member, their id: all admins see alike.
 * Reads cached or combined across viewers are told apart by it. */
export const scopeKey = (viewer: Viewer) => (viewer.isAdmin ? 'admin' : `member:${viewer.id}`);

/**
 * Reads shared by every viewer of one live batch (src/live/hub.ts): a batch resolves its events
 * for each viewer group with that viewer's loaders, and a loader made with these reads hands its
 * keys here, where the keys of all groups that asked in the same tick go out in one statement
 * (groups run side by side, so they ask together). SQL per batch then follows the documents and
 * fields a batch needs, not the number of viewers with events in it. Values are cached per
 * (scope, key), so two viewers of one scope share a row and two scopes never do.
 */
export class SharedReads {
  private readonly loaders = new Map<string, Loader<ViewerKey<unknown>, unknown, string>>();
  private readonly slots = new Map<string, unknown>();

  /** The batch's one `name` (made by `make` on first use): a combiner of its own kind, such as
   * the sessions' relations statement. */
  slot<T>(name: string, make: () => T): T {
    if (!this.slots.has(name)) this.slots.set(name, make());
    return this.slots.get(name) as T;
  }

  load<K, V>(name: string, batch: ViewerKeysBatch<K, V>, key: ViewerKey<K>): Promise<V> {
    let shared = this.loaders.get(name) as Loader<ViewerKey<K>, V, string> | undefined;
    if (!shared) {
      shared = loader<ViewerKey<K>, V, string>(`${name}:shared`, batch, { cacheKeyFn: (k) => `${scopeKey(k.viewer)}|${String(k.key)}` });
      this.loaders.set(name, shared as Loader<ViewerKey<unknown>, unknown, string>);
    }
    return shared.load(key);
  }
}

/**
 * A viewer's loader whose batch is one statement over (viewer, key) rows: the viewer's keys alone
 * (a request), or, given `shared`, with those of every viewer of the same live batch. `take`
 * turns a read value into the loader's, for this viewer (e.g. priming its other loaders).
 */
export function viewerLoader<K, R, V = R>(
  name: string,
  viewer: Viewer,
  shared: SharedReads | undefined,
  batch: ViewerKeysBatch<K, R>,
  take: (value: R) => V = (value) => value as unknown as V,
): Loader<K, V> {
  return loader<K, V>(name, async (keys) => {
    const values = shared ? await Promise.all(keys.map((key) => shared.load(name, batch, { viewer, key }))) : await batch(keys.map((key) => ({ viewer, key })));
    return values.map(take);
  });
}

/** A column of a key besides its id, for `viewerKeysRelation`: its name, SQL type and a value per key. */
export interface KeyColumn {
  name: string;
  type: string;
  values: readonly unknown[];
}

/**
 * `keys` as a relation for a statement's FROM: `alias(key, …more, viewer_id, viewer_admin, nth)`,
 * `key` the id (uuid), `nth` the key's 1-based position. Join the rows on `alias.key` and scope
 * them with the rule's per-row form over `alias.viewer_id` and `alias.viewer_admin` (e.g.
 * `sessionScopeOfRow`).
 */
export function viewerKeysRelation(params: SqlParams, keys: readonly ViewerKey<string>[], alias: string, more: readonly KeyColumn[] = []): string {
  const arrays = [
    `${params.add(keys.map((k) => k.key))}::uuid[]`,
    ...more.map((c) => `${params.add(c.values)}::${c.type}[]`),
    `${params.add(keys.map((k) => k.viewer.id))}::uuid[]`,
    `${params.add(keys.map((k) => k.viewer.isAdmin))}::boolean[]`,
  ];
  const names = ['key', ...more.map((c) => c.name), 'viewer_id', 'viewer_admin', 'nth'];
  return `unnest(${arrays.join(', ')}) WITH ORDINALITY AS ${alias}(${names.join(', ')})`;
}

/** One value per key from rows that carry their key's position as `_nth` (selected as
 * `k.nth AS "_nth"`, see viewerKeysRelation), given the row without it; null where none came back. */
export function byPosition<R extends { _nth?: unknown }, V>(count: number, rows: R[], value: (row: Omit<R, '_nth'>) => V): (V | null)[] {
  const values: (V | null)[] = new Array(count).fill(null);
  for (const { _nth, ...row } of rows) values[Number(_nth) - 1] = value(row);
  return values;
}
