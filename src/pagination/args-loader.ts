import { Loader, loader } from '../db/loader';

/** A load of a parameterised relation: the parent's id plus the arguments (page size, cursor,
 * order, filter) already validated and reduced to `argsKey`. */
export interface ArgsKey<A> {
  id: string;
  args: A;
  argsKey: string;
}

/**
 * A DataLoader for relations with arguments (`messages(first: 3)` of every session): loads
 * with the same arguments batch into one statement; different arguments (aliases) batch
 * separately, one statement per distinct set. `load` receives the ids in key order and
 * returns one value per id.
 */
export function argsLoader<A, V>(
  name: string,
  load: (ids: string[], args: A) => Promise<V[]>,
): Loader<ArgsKey<A>, V, string> {
  return loader<ArgsKey<A>, V, string>(
    name,
    async (keys) => {
      const groups = new Map<string, { args: A; ids: string[]; slots: number[] }>();
      keys.forEach((key, slot) => {
        let group = groups.get(key.argsKey);
        if (!group) groups.set(key.argsKey, (group = { args: key.args, ids: [], slots: [] }));
        group.ids.push(key.id);
        group.slots.push(slot);
      });
      const values = new Array<V>(keys.length);
      await Promise.all(
        [...groups.values()].map(async (group) => {
          const loaded = await load(group.ids, group.args);
          group.slots.forEach((slot, i) => (values[slot] = loaded[i]));
        }),
      );
      return values;
    },
    { cacheKeyFn: (key) => `${key.argsKey}\u0000${key.id}` },
  );
}
