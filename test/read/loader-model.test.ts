/**
 * Loader (src/db/loader.ts) against a model of what it promises: primed values handed out as they
 * are, cut values only to selections they cover, a key loaded at most once until cleared, and a
 * value never replacing one already held. A request makes every loader and uses few, so a loader
 * makes its DataLoader and maps on first use; the operations here start from every state, first
 * uses by any operation included.
 */
import fc from 'fast-check';
import { Loader } from '../../src/db/loader';

type Op =
  | { kind: 'get' | 'load' | 'clear'; key: number }
  | { kind: 'prime' | 'primePromise'; key: number; value: number }
  | { kind: 'primeCut'; key: number; value: number; properties: string[] }
  | { kind: 'getFor'; key: number; properties: string[] | null }
  | { kind: 'clearAll' };

const key = fc.integer({ min: 0, max: 5 });
const value = fc.integer({ min: 0, max: 1000 });
const properties = fc.subarray(['a', 'b', 'c']);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('get' as const, 'load' as const, 'clear' as const), key }),
  fc.record({ kind: fc.constantFrom('prime' as const, 'primePromise' as const), key, value }),
  fc.record({ kind: fc.constant('primeCut' as const), key, value, properties }),
  fc.record({ kind: fc.constant('getFor' as const), key, properties: fc.option(properties, { nil: null }) }),
  fc.constant({ kind: 'clearAll' as const }),
);

/** What the loader holds, as the model sees it: loaded values are `-(loads of the key)`. */
class Model {
  primed = new Map<number, number>();
  cuts = new Map<number, { value: number; properties: string[] }>();
  cached = new Map<number, number>();
  loads = new Map<number, number>();

  /** A key's value by load (or its cached one): `get` and `load` of a key not primed. */
  loaded(k: number): number {
    if (!this.cached.has(k)) {
      const n = (this.loads.get(k) ?? 0) + 1;
      this.loads.set(k, n);
      this.cached.set(k, -n);
    }
    return this.cached.get(k)!;
  }
}

it('hands out primed, cut and loaded values as a DataLoader with primed values would', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
      const loads = new Map<number, number>();
      const loader = new Loader<number, number>('model', async (keys) =>
        keys.map((k) => {
          const n = (loads.get(k) ?? 0) + 1;
          loads.set(k, n);
          return -n;
        }),
      );
      const model = new Model();
      for (const o of ops) {
        switch (o.kind) {
          case 'get': {
            const got = loader.get(o.key);
            if (model.primed.has(o.key)) expect(got).toBe(model.primed.get(o.key));
            else expect(await got).toBe(model.loaded(o.key));
            break;
          }
          case 'load':
            expect(await loader.load(o.key)).toBe(model.primed.has(o.key) ? model.primed.get(o.key) : model.loaded(o.key));
            break;
          case 'prime':
            loader.prime(o.key, o.value);
            if (!model.primed.has(o.key) && !model.cached.has(o.key)) model.primed.set(o.key, o.value);
            break;
          case 'primePromise':
            loader.prime(o.key, Promise.resolve(o.value));
            if (!model.cached.has(o.key)) model.cached.set(o.key, o.value);
            break;
          case 'primeCut':
            loader.primeCut(o.key, o.value, o.properties);
            if (!model.cuts.has(o.key)) model.cuts.set(o.key, { value: o.value, properties: o.properties });
            break;
          case 'getFor': {
            const got = loader.getFor(o.key, o.properties);
            const cut = model.cuts.get(o.key);
            const whole = model.primed.has(o.key) || model.cached.has(o.key);
            if (o.properties && !whole && cut && o.properties.every((p) => cut.properties.includes(p))) expect(got).toBe(cut.value);
            else if (model.primed.has(o.key)) expect(got).toBe(model.primed.get(o.key));
            else expect(await got).toBe(model.loaded(o.key));
            break;
          }
          case 'clear':
            loader.clear(o.key);
            model.primed.delete(o.key);
            model.cuts.delete(o.key);
            model.cached.delete(o.key);
            break;
          case 'clearAll':
            loader.clearAll();
            model.primed.clear();
            model.cuts.clear();
            model.cached.clear();
            break;
        }
      }
      expect(loads).toEqual(model.loads);
    }),
    { numRuns: 300 },
  );
});
